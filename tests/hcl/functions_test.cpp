#include "hcl/functions.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "hcl/test_util.hpp"
#include "support/temp_dir.hpp"

namespace berth::hcl {
namespace {

using testing::error_of;
using testing::eval;
using testing::eval_json;

struct FunctionCase {
  std::string source;
  std::string expected_json;
};

class HclFunction : public ::testing::TestWithParam<FunctionCase> {};

TEST_P(HclFunction, ReturnsExpectedValue) {
  EXPECT_EQ(eval_json(GetParam().source), GetParam().expected_json) << GetParam().source;
}

INSTANTIATE_TEST_SUITE_P(
    Strings, HclFunction,
    ::testing::Values(FunctionCase{R"(lower("AbC"))", R"("abc")"},
                      FunctionCase{R"(upper("AbC"))", R"("ABC")"},
                      FunctionCase{R"(title("hello world"))", R"("Hello World")"},
                      FunctionCase{R"(trimspace("  a b \n"))", R"("a b")"},
                      FunctionCase{R"(trim("?!a?!", "!?"))", R"("a")"},
                      FunctionCase{R"(trimprefix("prefix-x", "prefix-"))", R"("x")"},
                      FunctionCase{R"(trimprefix("x", "y"))", R"("x")"},
                      FunctionCase{R"(trimsuffix("x.tf", ".tf"))", R"("x")"},
                      FunctionCase{R"(chomp("a\n\n"))", R"("a")"},
                      FunctionCase{R"(join(", ", ["a", "b"], ["c"]))", R"("a, b, c")"},
                      FunctionCase{R"(join("-", [1, true]))", R"("1-true")"},
                      FunctionCase{R"(split(",", "a,b,,c"))", R"(["a","b","","c"])"},
                      FunctionCase{R"(split(",", ""))", R"([""])"},
                      FunctionCase{R"(replace("a-b-c", "-", "+"))", R"("a+b+c")"},
                      FunctionCase{R"(replace("a1b22", "/[0-9]+/", "#"))", R"("a#b#")"},
                      FunctionCase{R"(replace("john.doe", "/(\\w+)\\.(\\w+)/", "$2 $1"))",
                                   R"("doe john")"},
                      FunctionCase{R"(format("%s is %d years, %.2f%%", "Ann", 30, 1.5))",
                                   R"("Ann is 30 years, 1.50%")"},
                      FunctionCase{R"(format("[%5s][%-5s][%05d]", "ab", "ab", 42))",
                                   R"("[   ab][ab   ][00042]")"},
                      FunctionCase{R"(format("%q %v %v %#v", "x\"", 1.5, [1], "s"))",
                                   R"("\"x\\\"\" 1.5 [1] \"s\"")"},
                      FunctionCase{R"(format("%t %x %X", true, 255, 255))", R"("true ff FF")"},
                      FunctionCase{R"(startswith("coder", "co"))", "true"},
                      FunctionCase{R"(endswith("coder", "co"))", "false"},
                      FunctionCase{R"(substr("hello", 1, 3))", R"("ell")"},
                      FunctionCase{R"(substr("héllo", -3, -1))", R"("llo")"},
                      FunctionCase{R"(strrev("abé"))", "\"\u00e9ba\""},
                      FunctionCase{R"(indent(2, "a\nb"))", R"("a\n  b")"},
                      FunctionCase{R"x(regex("([a-z]+)-([0-9]+)", "ab-12"))x", R"(["ab","12"])"},
                      FunctionCase{R"(regex("[0-9]+", "ab-12"))", R"("12")"},
                      FunctionCase{R"(regexall("[0-9]", "a1b2"))", R"(["1","2"])"},
                      FunctionCase{R"(urlencode("a b&c"))", R"("a%20b%26c")"}));

INSTANTIATE_TEST_SUITE_P(
    Conversions, HclFunction,
    ::testing::Values(
        FunctionCase{"tostring(12)", R"("12")"}, FunctionCase{"tostring(null)", "null"},
        FunctionCase{R"(tonumber("1.25"))", "1.25"}, FunctionCase{R"(tonumber("7"))", "7"},
        FunctionCase{R"(tobool("true"))", "true"}, FunctionCase{R"(tolist(["a"]))", R"(["a"])"},
        FunctionCase{R"(toset(["b", "a", "b"]))", R"(["a","b"])"},
        FunctionCase{"tomap({a = 1})", R"({"a":1})"},
        FunctionCase{R"(jsonencode({b = [1, 2.5, true, null], a = "<x>"}))",
                     R"("{\"a\":\"\\u003cx\\u003e\",\"b\":[1,2.5,true,null]}")"},
        FunctionCase{R"(jsondecode("{\"a\": [1, 2.5, \"x\"]}"))", R"({"a":[1,2.5,"x"]})"},
        FunctionCase{R"(base64encode("hello!?"))", R"("aGVsbG8hPw==")"},
        FunctionCase{R"(base64decode("aGVsbG8hPw=="))", R"("hello!?")"},
        FunctionCase{R"(sha256("abc"))",
                     R"("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")"},
        FunctionCase{R"(sha1("abc"))", R"("a9993e364706816aba3e25717850c26c9cd0d89d")"},
        FunctionCase{R"(md5("abc"))", R"("900150983cd24fb0d6963f7d28e17f72")"},
        FunctionCase{"sensitive(1)", "1"}, FunctionCase{"nonsensitive(1)", "1"}));

INSTANTIATE_TEST_SUITE_P(
    Collections, HclFunction,
    ::testing::Values(
        FunctionCase{R"(length("héllo"))", "5"}, FunctionCase{"length([1, 2])", "2"},
        FunctionCase{"length({a = 1})", "1"},
        FunctionCase{R"(coalesce(null, "", "x", "y"))", R"("x")"},
        FunctionCase{"coalescelist([], [1], [2])", "[1]"},
        FunctionCase{R"(contains(["a", 1], 1))", "true"},
        FunctionCase{R"(contains(["a"], "b"))", "false"},
        FunctionCase{"concat([1], [], [2, 3])", "[1,2,3]"},
        FunctionCase{"merge({a = 1, b = 1}, null, {b = 2})", R"({"a":1,"b":2})"},
        FunctionCase{"keys({b = 1, a = 2})", R"(["a","b"])"},
        FunctionCase{"values({b = 1, a = 2})", "[2,1]"},
        FunctionCase{R"(lookup({a = 1}, "a", 0))", "1"},
        FunctionCase{R"(lookup({a = 1}, "z", 0))", "0"}, FunctionCase{"element([1, 2, 3], 4)", "2"},
        FunctionCase{"flatten([1, [2, [3, []]]])", "[1,2,3]"},
        FunctionCase{"distinct([1, 2, 1.0, 3])", "[1,2,3]"},
        FunctionCase{R"(compact(["a", "", null, "b"]))", R"(["a","b"])"},
        FunctionCase{"slice([1, 2, 3, 4], 1, 3)", "[2,3]"},
        FunctionCase{R"(zipmap(["a", "b"], [1, 2]))", R"({"a":1,"b":2})"},
        FunctionCase{"index([\"a\", \"b\"], \"b\")", "1"}, FunctionCase{"one([])", "null"},
        FunctionCase{"reverse([1, 2])", "[2,1]"},
        FunctionCase{R"(sort(["b", "a"]))", R"(["a","b"])"},
        FunctionCase{"alltrue([true, true])", "true"}, FunctionCase{"anytrue([false])", "false"},
        FunctionCase{"sum([1, 2, 3.5])", "6.5"}, FunctionCase{"range(3)", "[0,1,2]"},
        FunctionCase{"range(1, 7, 2)", "[1,3,5]"}, FunctionCase{"range(3, 0)", "[3,2,1]"}));

INSTANTIATE_TEST_SUITE_P(
    Numbers, HclFunction,
    ::testing::Values(FunctionCase{"min(3, 1.5, 2)", "1.5"}, FunctionCase{"max(3, 1, 2)", "3"},
                      FunctionCase{"abs(-4)", "4"}, FunctionCase{"abs(-1.5)", "1.5"},
                      FunctionCase{"ceil(1.2)", "2"}, FunctionCase{"floor(-1.2)", "-2"},
                      FunctionCase{"signum(-3)", "-1"}, FunctionCase{"pow(2, 10)", "1024"}));

INSTANTIATE_TEST_SUITE_P(
    TryAndCan, HclFunction,
    ::testing::Values(FunctionCase{"try({a = 1}.b, {a = 1}.a, 3)", "1"},
                      FunctionCase{"try([][0], \"fallback\")", R"("fallback")"},
                      FunctionCase{"can([][0])", "false"}, FunctionCase{"can([1][0])", "true"}));

INSTANTIATE_TEST_SUITE_P(
    SetsPathsAndMore, HclFunction,
    ::testing::Values(
        FunctionCase{R"(strcontains("coder", "ode"))", "true"},
        FunctionCase{R"(strcontains("coder", "x"))", "false"},
        FunctionCase{R"(setunion(["b", "a"], ["c", "a"]))", R"(["a","b","c"])"},
        FunctionCase{R"(setintersection(["a", "b", "c"], ["b", "c"], ["c", "b", "x"]))",
                     R"(["b","c"])"},
        FunctionCase{R"(setsubtract(["a", "b", "c"], ["b"]))", R"(["a","c"])"},
        FunctionCase{R"(setintersection([1, 2], [2.0]))", "[2]"},
        FunctionCase{R"(setproduct(["a", "b"], [1, 2]))", R"([["a",1],["a",2],["b",1],["b",2]])"},
        FunctionCase{R"(chunklist(["a", "b", "c"], 2))", R"([["a","b"],["c"]])"},
        FunctionCase{R"(formatlist("%s=%s", ["a", "b"], "x"))", R"(["a=x","b=x"])"},
        FunctionCase{R"(formatlist("%s-%d", ["a", "b"], [1, 2]))", R"(["a-1","b-2"])"},
        FunctionCase{R"(basename("/home/coder/file.txt"))", R"("file.txt")"},
        FunctionCase{R"(basename("dir/"))", R"("dir")"},
        FunctionCase{R"(dirname("/home/coder/file.txt"))", R"("/home/coder")"},
        FunctionCase{R"(dirname("file.txt"))", R"(".")"},
        FunctionCase{R"(dirname("/file"))", R"("/")"}, FunctionCase{R"(parseint("ff", 16))", "255"},
        FunctionCase{R"(parseint("-101", 2))", "-5"},
        FunctionCase{R"(sha512("a"))",
                     R"("1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f5302860c6)"
                     R"(52bf08d560252aa5e74210546f369fbbbce8c12cfc7957b2652fe9a75")"},
        FunctionCase{R"(base64sha256("hello"))",
                     R"("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")"},
        FunctionCase{R"(tomap({a = 1}))", R"({"a":1})"}, FunctionCase{R"(tonumber("12"))", "12"},
        FunctionCase{R"(keys({b = 1, a = 2}))", R"(["a","b"])"},
        FunctionCase{R"(lookup({a = 1}, "b", "none"))", R"("none")"},
        FunctionCase{R"(coalesce("", "x"))", R"("x")"},
        FunctionCase{R"(merge({a = 1}, {b = 2}, {a = 3}))", R"({"a":3,"b":2})"},
        FunctionCase{R"(jsonencode({b = [1, "<x>"], a = null}))",
                     R"("{\"a\":null,\"b\":[1,\"\\u003cx\\u003e\"]}")"},
        // Legacy attribute-style indexes, as envbuilder_cached_image.cached.0.image.
        FunctionCase{R"([{ image = "x" }].0.image)", R"("x")"}));

// Coder's Docker template points the agent at the host through the Docker gateway; the
// pattern's \\. is an escaped backslash in HCL, so the regex sees \. and matches only dots.
TEST(HclFunction, ReplaceWithTheDockerTemplatesRegex) {
  EXPECT_EQ(eval_json(R"(replace("curl -fsSL http://127.0.0.1:3000/bin http://localhost:3000 )"
                      R"(127x0x0x1", "/localhost|127\\.0\\.0\\.1/", "host.docker.internal"))"),
            R"("curl -fsSL http://host.docker.internal:3000/bin http://host.docker.internal:3000 )"
            R"(127x0x0x1")");
}

TEST(HclFunction, UuidIsRandomVersionFour) {
  json::value v = eval("uuid()");
  ASSERT_TRUE(v.is_string());
  EXPECT_TRUE(std::regex_match(std::string(v.get_string()),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")));
  EXPECT_NE(eval("uuid()"), v);
}

struct FunctionErrorCase {
  std::string source;
  std::string message;
};

class HclFunctionError : public ::testing::TestWithParam<FunctionErrorCase> {};

TEST_P(HclFunctionError, ReportsPositionedError) {
  EXPECT_EQ(error_of([&] { eval(GetParam().source); }), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HclFunctionError,
    ::testing::Values(
        FunctionErrorCase{"foo(1)", "expr.tf:1:5: unknown function \"foo\""},
        FunctionErrorCase{"upper(foo(1))", "expr.tf:1:11: unknown function \"foo\""},
        FunctionErrorCase{"lower()",
                          "expr.tf:1:5: invalid call to lower(): expected 1 argument, got 0"},
        FunctionErrorCase{
            "lower([1])",
            "expr.tf:1:5: invalid call to lower(): argument 1 must be a string, got list"},
        FunctionErrorCase{
            R"(tonumber("x"))",
            "expr.tf:1:5: invalid call to tonumber(): argument 1 must be a number, got "
            "string"},
        FunctionErrorCase{R"(lookup({}, "k"))",
                          "expr.tf:1:5: invalid call to lookup(): the map has no key \"k\" and no "
                          "default was given"},
        FunctionErrorCase{R"(format("%d"))",
                          "expr.tf:1:5: invalid call to format(): not enough arguments for %d"},
        FunctionErrorCase{R"(format("%s", 1, 2))",
                          "expr.tf:1:5: invalid call to format(): too many arguments; the format "
                          "string uses 1, got 2"},
        FunctionErrorCase{
            R"(jsondecode("{"))",
            "expr.tf:1:5: invalid call to jsondecode(): invalid JSON: incomplete JSON"},
        FunctionErrorCase{
            R"(base64decode("!!"))",
            "expr.tf:1:5: invalid call to base64decode(): the string is not valid base64"},
        FunctionErrorCase{R"(base64decode("/w=="))",  // one byte, 0xFF
                          "expr.tf:1:5: invalid call to base64decode(): the result of decoding "
                          "the provided string is not valid UTF-8"},
        FunctionErrorCase{"coalesce(null, \"\")",
                          "expr.tf:1:5: invalid call to coalesce(): no non-null, non-empty-string "
                          "arguments"},
        FunctionErrorCase{
            "element([], 0)",
            "expr.tf:1:5: invalid call to element(): cannot use element() with an empty "
            "list"},
        FunctionErrorCase{"range(5000)",
                          "expr.tf:1:5: invalid call to range(): more than 1024 elements"},
        FunctionErrorCase{"timestamp()",
                          "expr.tf:1:5: invalid call to timestamp(): timestamp() is not supported: "
                          "template evaluation must be deterministic"},
        FunctionErrorCase{R"(regex("(", "x"))",
                          "expr.tf:1:5: invalid call to regex(): invalid regular expression \"(\": "
                          "missing ): ("},
        FunctionErrorCase{"try([][0])",
                          "expr.tf:1:5: try(): no argument evaluated without an error"},
        FunctionErrorCase{"concat(1...)",
                          "expr.tf:1:12: the argument before '...' must be a list"}));

class HclFileFunction : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directory(dir_.path() / "module");
    write("module/hello.txt", "hello\n");
    write("module/greeting.tpl", "Hi ${name}!%{ for x in items } ${x}%{ endfor }");
    write("secret.txt", "secret");
    std::filesystem::create_symlink(dir_.path() / "secret.txt", dir_.path() / "module/link");
    scope_.functions = FunctionEnvironment{(dir_.path() / "module").string(), 16, nullptr};
  }
  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_.path() / name) << content;
  }
  json::value eval_here(const std::string& source) {
    return evaluate(*testing::parse_expression(source), scope_);
  }

  berth::testing::TempDir dir_;
  EvalScope scope_;
};

TEST_F(HclFileFunction, ReadsFilesRelativeToTheModule) {
  EXPECT_EQ(eval_here(R"(file("hello.txt"))"), json::value("hello\n"));
  EXPECT_EQ(eval_here(R"(file("${path.module}/hello.txt"))"), json::value("hello\n"));
  EXPECT_EQ(eval_here(R"(fileexists("hello.txt"))"), json::value(true));
  EXPECT_EQ(eval_here(R"(fileexists("nope.txt"))"), json::value(false));
  EXPECT_EQ(eval_here(R"(filebase64("hello.txt"))"), json::value("aGVsbG8K"));
}

TEST_F(HclFileFunction, RefusesPathsOutsideTheModule) {
  EXPECT_EQ(error_of([&] { eval_here(R"(file("../secret.txt"))"); }),
            "expr.tf:1:5: cannot read \"../secret.txt\": the path leaves the module directory");
  EXPECT_EQ(error_of([&] { eval_here(R"(file("a/../../secret.txt"))"); }),
            "expr.tf:1:5: cannot read \"a/../../secret.txt\": the path leaves the module "
            "directory");
  EXPECT_EQ(error_of([&] { eval_here(R"(file("/etc/passwd"))"); }),
            "expr.tf:1:5: cannot read \"/etc/passwd\": absolute paths are not allowed");
  EXPECT_EQ(error_of([&] { eval_here(R"(file("link"))"); }),
            "expr.tf:1:5: cannot read \"link\": the path leaves the module directory");
  EXPECT_EQ(error_of([&] { eval_here(R"(fileexists("../secret.txt"))"); }),
            "expr.tf:1:5: cannot read \"../secret.txt\": the path leaves the module directory");
}

TEST_F(HclFileFunction, RefusesFilesOverTheLimit) {
  write("module/big.txt", std::string(17, 'x'));
  EXPECT_EQ(error_of([&] { eval_here(R"(file("big.txt"))"); }),
            "expr.tf:1:5: cannot read \"big.txt\": the file is larger than 16 bytes");
}

TEST_F(HclFileFunction, TemplatefileRendersWithOnlyItsVariables) {
  scope_.functions.max_file_bytes = 1024;
  EXPECT_EQ(eval_here(R"(templatefile("greeting.tpl", { name = "Ann", items = [1, 2] }))"),
            json::value("Hi Ann! 1 2"));
  EXPECT_EQ(error_of([&] { eval_here(R"(templatefile("greeting.tpl", { name = "Ann" }))"); }),
            "greeting.tpl:1:24: unknown variable \"items\" in the template");
}

}  // namespace
}  // namespace berth::hcl
