#include "hcl/parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "hcl/test_util.hpp"

namespace berth::hcl {
namespace {

using testing::error_of;
using testing::eval_json;

TEST(HclParser, ParsesBlocksWithLabelsAndNestedBlocks) {
  File f = parse(R"(
resource "coder_agent" main {
  os = "linux"
  metadata {
    key = "cpu"
  }
  metadata { key = "mem" }
  empty {}
}
)",
                 "main.tf");
  ASSERT_EQ(f.blocks.size(), 1u);
  const Block& b = f.blocks[0];
  EXPECT_EQ(b.type, "resource");
  EXPECT_EQ(b.labels, (std::vector<std::string>{"coder_agent", "main"}));
  EXPECT_EQ(b.position.to_string(), "main.tf:2:1");
  ASSERT_EQ(b.attributes.size(), 1u);
  EXPECT_EQ(b.attributes[0].name, "os");
  EXPECT_EQ(b.attributes[0].position.to_string(), "main.tf:3:3");
  ASSERT_EQ(b.blocks.size(), 3u);
  EXPECT_EQ(b.blocks[1].type, "metadata");
  EXPECT_EQ(b.blocks[1].attributes.at(0).name, "key");
  EXPECT_TRUE(b.blocks[2].attributes.empty());
}

TEST(HclParser, SkipsAllCommentStyles) {
  File f = parse("# hash\n// slashes\n/* block\n comment */ a = 1 # trailing\nb = /* inline */ 2\n",
                 "c.tf");
  ASSERT_EQ(f.attributes.size(), 2u);
  EXPECT_EQ(f.attributes[0].position.to_string(), "c.tf:4:13");
}

TEST(HclParser, AcceptsFileWithoutTrailingNewlineAndCrlf) {
  EXPECT_EQ(parse("a = 1\r\nb = 2", "x.tf").attributes.size(), 2u);
}

TEST(HclParser, RejectsDuplicateAttributes) {
  EXPECT_EQ(error_of([] { parse("a = 1\na = 2\n", "d.tf"); }),
            "d.tf:2:1: duplicate attribute \"a\"");
}

struct ExpressionCase {
  std::string source;
  std::string expected_json;
};

class HclExpressionParse : public ::testing::TestWithParam<ExpressionCase> {};

TEST_P(HclExpressionParse, EvaluatesToExpectedValue) {
  EXPECT_EQ(eval_json(GetParam().source), GetParam().expected_json) << GetParam().source;
}

INSTANTIATE_TEST_SUITE_P(
    Literals, HclExpressionParse,
    ::testing::Values(ExpressionCase{"42", "42"}, ExpressionCase{"1.5", "1.5"},
                      ExpressionCase{"1e3", "1000"}, ExpressionCase{"2.5E-1", "0.25"},
                      ExpressionCase{"true", "true"}, ExpressionCase{"false", "false"},
                      ExpressionCase{"null", "null"},
                      ExpressionCase{R"("a\nb\t\"q\"\\")", R"("a\nb\t\"q\"\\")"},
                      ExpressionCase{R"("\u00e9\U0001F600")", "\"\u00e9\U0001F600\""},
                      ExpressionCase{R"("$${x} %%{y}")", R"("${x} %{y}")"},
                      ExpressionCase{R"("")", R"("")"}));

INSTANTIATE_TEST_SUITE_P(
    Templates, HclExpressionParse,
    ::testing::Values(ExpressionCase{R"("a${1 + 1}b")", R"("a2b")"},
                      ExpressionCase{R"("${true}-${1.5}")", R"("true-1.5")"},
                      ExpressionCase{R"("${[1, 2]}")", "[1,2]"},  // lone interpolation keeps type
                      ExpressionCase{R"("x ${"in${"ner"}"} y")", R"("x inner y")"},
                      ExpressionCase{R"("a ${~ "b" ~} c")", R"("abc")"},
                      ExpressionCase{R"("%{ if true }yes%{ else }no%{ endif }")", R"("yes")"},
                      ExpressionCase{R"("%{ if false }yes%{ endif }")", R"("")"},
                      ExpressionCase{R"("%{ for x in ["a", "b"] }[${x}]%{ endfor }")",
                                     R"("[a][b]")"},
                      ExpressionCase{R"("%{ for k, v in {b = 2, a = 1} }${k}=${v};%{ endfor }")",
                                     R"("a=1;b=2;")"}));

INSTANTIATE_TEST_SUITE_P(
    Collections, HclExpressionParse,
    ::testing::Values(
        ExpressionCase{"[]", "[]"}, ExpressionCase{"[1, 2,]", "[1,2]"},
        ExpressionCase{"[\n  1,\n  2\n]", "[1,2]"}, ExpressionCase{"{}", "{}"},
        ExpressionCase{R"({ a = 1, "b" = 2, c: 3 })", R"({"a":1,"b":2,"c":3})"},
        ExpressionCase{"{\n  a = 1\n  b = [\n    2\n  ]\n}", R"({"a":1,"b":[2]})"},
        ExpressionCase{R"({ "${"k"}x" = 1 })", R"({"kx":1})"}, ExpressionCase{"[1, 2, 3][1]", "2"},
        ExpressionCase{R"({a = {b = [10, 20]}}.a.b[1])", "20"},
        ExpressionCase{R"({a = 1}["a"])", "1"}, ExpressionCase{"[1, 2].0", "1"},
        ExpressionCase{"[{id = 1}, {id = 2}][*].id", "[1,2]"},
        ExpressionCase{"[{a = {b = 1}}, {a = {b = 2}}][*].a.b", "[1,2]"},
        ExpressionCase{"[{id = 1}].*.id", "[1]"}, ExpressionCase{"{id = 3}[*].id", "[3]"},
        ExpressionCase{"[for x in [1, 2, 3] : x * 2]", "[2,4,6]"},
        ExpressionCase{"[for i, x in [\"a\", \"b\"] : \"${i}${x}\" if i > 0]", R"(["1b"])"},
        ExpressionCase{"{for k, v in {a = 1, b = 2} : v => k}", R"({"1":"a","2":"b"})"},
        ExpressionCase{"{\n for x in [\"a\", \"b\", \"a\"] :\n x => x...\n}",
                       R"({"a":["a","a"],"b":["b"]})"}));

INSTANTIATE_TEST_SUITE_P(
    Operators, HclExpressionParse,
    ::testing::Values(
        ExpressionCase{"1 + 2 * 3", "7"}, ExpressionCase{"(1 + 2) * 3", "9"},
        ExpressionCase{"10 - 2 - 3", "5"}, ExpressionCase{"7 / 2", "3.5"},
        ExpressionCase{"8 / 2", "4"}, ExpressionCase{"7 % 3", "1"},
        ExpressionCase{"1.5 + 1", "2.5"}, ExpressionCase{"-2 * 3", "-6"},
        ExpressionCase{"- -2", "2"}, ExpressionCase{"!false", "true"},
        ExpressionCase{"1 < 2 && 2 <= 2", "true"}, ExpressionCase{"3 > 4 || 4 >= 5", "false"},
        ExpressionCase{"1 == 1.0", "true"}, ExpressionCase{R"("a" != "b")", "true"},
        ExpressionCase{R"("1" == 1)", "false"}, ExpressionCase{"[1, \"a\"] == [1, \"a\"]", "true"},
        ExpressionCase{"true || false && false", "true"},
        ExpressionCase{"1 + 1 == 2 ? \"y\" : \"n\"", R"("y")"},
        ExpressionCase{"false ? 1 : true ? 2 : 3", "2"}, ExpressionCase{R"("2" + 3)", "5"},
        ExpressionCase{"9223372036854775807 + 1", "9223372036854775808"},
        ExpressionCase{"upper(\"a\")", R"("A")"}, ExpressionCase{"max([1, 5, 3]...)", "5"},
        ExpressionCase{"concat(\n  [1],\n  [2],\n)", "[1,2]"}));

INSTANTIATE_TEST_SUITE_P(
    Heredocs, HclExpressionParse,
    ::testing::Values(
        ExpressionCase{"<<EOT\nline 1\n  line 2\nEOT", R"("line 1\n  line 2\n")"},
        ExpressionCase{"<<-EOT\n    a\n      b\n\n    c ${1 + 1}\n    EOT", R"("a\n  b\n\nc 2\n")"},
        ExpressionCase{"<<EOT\nno \\n escapes, $${x}\nEOT", R"("no \\n escapes, ${x}\n")"},
        ExpressionCase{"<<EOT\n%{ for x in [1, 2] ~}\n${x}\n%{ endfor ~}\nEOT", R"("1\n2\n")"},
        ExpressionCase{"<<EOT\nEOT", R"("")"}));

TEST(HclParser, HeredocFollowedByMoreAttributes) {
  File f = parse("a = <<-EOT\n  hi\n  EOT\nb = 2\n", "h.tf");
  ASSERT_EQ(f.attributes.size(), 2u);
  EXPECT_EQ(f.attributes[1].position.to_string(), "h.tf:4:1");
}

TEST(HclParser, HeredocInterpolationErrorsPointIntoTheHeredoc) {
  EXPECT_EQ(error_of([] { parse("a = <<-EOT\n    x ${ ] }\n    EOT\n", "h.tf"); }),
            "h.tf:2:10: expected an expression, found ']'");
}

TEST(HclParser, FunctionCallKeepsNameArgumentsAndExpansion) {
  ExpressionPtr e = testing::parse_expression("f(a, b...)");
  EXPECT_EQ(e->kind, ExpressionKind::call);
  EXPECT_EQ(e->name, "f");
  EXPECT_EQ(e->operands.size(), 2u);
  EXPECT_TRUE(e->expand_final);
}

TEST(HclParser, TraversalBuildsAttributeAndIndexNodes) {
  ExpressionPtr e = testing::parse_expression("coder_agent.main[0].token");
  ASSERT_EQ(e->kind, ExpressionKind::get_attr);
  EXPECT_EQ(e->name, "token");
  ASSERT_EQ(e->operands[0]->kind, ExpressionKind::index);
  EXPECT_EQ(e->operands[0]->operands[0]->name, "main");
  EXPECT_EQ(e->operands[0]->operands[0]->operands[0]->name, "coder_agent");
  EXPECT_EQ(e->position.to_string(), "expr.tf:1:24");
}

struct ErrorCase {
  std::string name;
  std::string source;
  std::string message;
};

class HclParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(HclParseError, ReportsPositionedMessage) {
  EXPECT_EQ(error_of([&] { parse(GetParam().source, "main.tf"); }), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HclParseError,
    ::testing::Values(
        ErrorCase{"UnterminatedHeredoc", "a = 1\nb = <<EOT\nhello\n",
                  "main.tf:2:5: unterminated heredoc: missing the closing marker \"EOT\""},
        ErrorCase{"UnterminatedString", "a = \"abc\n", "main.tf:1:5: unterminated string"},
        ErrorCase{"UnterminatedStringAtEof", "x {\n  a = \"abc",
                  "main.tf:2:7: unterminated string"},
        ErrorCase{
            "MissingBracket", "a = [1, 2\nb = 3\n",
            "main.tf:2:1: expected ',' or ']' to close the list opened at main.tf:1:5, found 'b'"},
        ErrorCase{"MissingParen", "a = (1 + 2\n",
                  "main.tf:2:1: expected ')' to close the parenthesis opened at main.tf:1:5, found "
                  "end of input"},
        ErrorCase{
            "MissingCallParen", "a = f(1\n",
            "main.tf:2:1: expected ',' or ')' in the call to f() opened at main.tf:1:5, found "
            "end of input"},
        ErrorCase{"UnterminatedBlock", "resource \"x\" \"y\" {\n  a = 1\n",
                  "main.tf:1:1: unterminated block: missing '}'"},
        ErrorCase{"UnterminatedComment", "a = 1\n  /* never closed",
                  "main.tf:2:3: unterminated comment"},
        ErrorCase{"UnterminatedObject", "a = {\n  b = 1\n",
                  "main.tf:1:5: unterminated object: missing '}'"},
        ErrorCase{
            "UnterminatedInterpolation", "a = \"${b\"\n",
            "main.tf:1:9: expected '}' to close the interpolation opened at main.tf:1:6, found "
            "'\"'"},
        ErrorCase{"BadEscape", "a = \"\\q\"\n", "main.tf:1:6: invalid escape sequence \\'q'"},
        ErrorCase{"BadUnicodeEscape", "a = \"\\u12\"\n",
                  "main.tf:1:6: invalid unicode escape sequence"},
        ErrorCase{"MissingValue", "a = \n", "main.tf:1:5: expected an expression, found newline"},
        ErrorCase{"TwoAttributesOnOneLine", "a = 1 b = 2\n",
                  "main.tf:1:7: expected a newline after the attribute or block, found 'b'"},
        ErrorCase{"StrayClosingBrace", "}\n", "main.tf:1:1: unexpected '}'"},
        ErrorCase{"InterpolatedLabel", "resource \"${x}\" \"y\" {}\n",
                  "main.tf:1:10: block labels must be literal strings"},
        ErrorCase{"HeredocWithoutNewline", "a = <<EOT x\nEOT\n",
                  "main.tf:1:10: expected a newline after the heredoc marker"},
        ErrorCase{"UnclosedIf", "a = \"%{ if true }x\"\n",
                  "main.tf:1:6: missing %{ endif } for this %{ if }"},
        ErrorCase{"StrayEndfor", "a = \"x%{ endfor }\"\n", "main.tf:1:7: unexpected %{ endfor }"},
        ErrorCase{"UnknownDirective", "a = \"%{ while x }\"\n",
                  "main.tf:1:6: unknown template directive \"while\""},
        // Invalid UTF-8 anywhere is refused where it starts; columns count characters.
        ErrorCase{"InvalidUtf8InAnIdentifier",
                  "locals {\n  b\xFF"
                  "d = 1\n}\n",
                  "main.tf:2:4: invalid UTF-8 (byte 0xFF): template files must be UTF-8 encoded"},
        ErrorCase{"InvalidUtf8InAString", "a = \"caf\xC3\xA9 \xC3\x28\"\n",
                  "main.tf:1:11: invalid UTF-8 (byte 0xC3): template files must be UTF-8 encoded"},
        ErrorCase{"InvalidUtf8InAComment", "# ok\n\n// \xED\xA0\x80 a surrogate\na = 1\n",
                  "main.tf:3:4: invalid UTF-8 (byte 0xED): template files must be UTF-8 encoded"},
        ErrorCase{"InvalidUtf8InAHeredoc", "a = <<EOT\n\xC0\x80\nEOT\n",
                  "main.tf:2:1: invalid UTF-8 (byte 0xC0): template files must be UTF-8 encoded"},
        ErrorCase{"TruncatedUtf8AtTheEnd", "a = 1 # \xE2\x82",
                  "main.tf:1:9: invalid UTF-8 (byte 0xE2): template files must be UTF-8 encoded"}),
    [](const auto& info) { return info.param.name; });

TEST(HclParser, RejectsDeeplyNestedBracketsWithoutCrashing) {
  std::string source = "a = " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  EXPECT_NE(error_of([&] { parse(source, "deep.tf"); }).find("nesting is deeper than 128"),
            std::string::npos);
}

TEST(HclParser, RejectsDeeplyNestedBlocksAndInterpolations) {
  std::string blocks;
  for (int i = 0; i < 10000; ++i) blocks += "a {\n";
  EXPECT_NE(error_of([&] { parse(blocks, "deep.tf"); }).find("nesting"), std::string::npos);
  std::string interpolations = "a = ";
  for (int i = 0; i < 5000; ++i) interpolations += "\"${";
  EXPECT_NE(error_of([&] { parse(interpolations, "deep.tf"); }).find("nesting"), std::string::npos);
  std::string unary = "a = " + std::string(100000, '!') + "true\n";
  EXPECT_NE(error_of([&] { parse(unary, "deep.tf"); }).find("nesting"), std::string::npos);
}

TEST(HclParser, RejectsOverlongOperatorChainsWithoutCrashing) {
  std::string source = "a = 1";
  for (int i = 0; i < 200000; ++i) source += " + 1";
  EXPECT_NE(error_of([&] { parse(source + "\n", "long.tf"); }).find("too complex"),
            std::string::npos);
}

TEST(HclParser, ParsesFiveMegabyteStringLiteral) {
  std::string big(5 * 1024 * 1024, 'x');
  File f = parse("a = \"" + big + "\"\nb = <<EOT\n" + big + "\nEOT\n", "big.tf");
  ASSERT_EQ(f.attributes.size(), 2u);
  EXPECT_EQ(testing::eval_json("\"" + big + "\"").size(), big.size() + 2);
}

TEST(HclParser, TruncatedInputNeverCrashes) {
  const std::string source = R"(
variable "x" {
  default = { a = [1, 2.5e3, "s${var.y}"], b = <<-EOT
    text %{ if true }y%{ endif }
    EOT
  }
}
locals { c = [for k, v in var.x : "${k}=${v}" if v != null] /* c */ }
resource "t" "n" { count = 1 + -2 * (3 % 4) > 0 ? 1 : 0 }
)";
  for (std::size_t n = 0; n <= source.size(); ++n) {
    try {
      parse(source.substr(0, n), "t.tf");
    } catch (const Error&) {
    }
  }
  EXPECT_NO_THROW(parse(source, "t.tf"));
}

TEST(HclParser, RefusesInvalidUtf8InFilesAndTemplatesAlike) {
  EXPECT_EQ(error_of([] { parse("a = \"\xff\xfe\"\n", "u.tf"); }),
            "u.tf:1:6: invalid UTF-8 (byte 0xFF): template files must be UTF-8 encoded");
  EXPECT_EQ(error_of([] { parse_template("hello\n${name} \xff\n", "t.tpl"); }),
            "t.tpl:2:9: invalid UTF-8 (byte 0xFF): template files must be UTF-8 encoded");
}

TEST(HclParser, ParseTemplateTreatsWholeInputAsHeredocBody) {
  ExpressionPtr t = parse_template("hello ${name}\\n\n", "t.tpl");
  EvalScope scope;
  scope.bindings.emplace_back("name", "you");
  EXPECT_EQ(encode_json(evaluate(*t, scope)), R"("hello you\\n\n")");
}

}  // namespace
}  // namespace berth::hcl
