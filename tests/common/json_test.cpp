#include "common/json.hpp"

#include <gtest/gtest.h>

namespace berth::json {
namespace {

ErrorCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorCode::internal;
}

TEST(ParseBody, RejectsMalformedEmptyAndDeepInput) {
  for (std::string bad : {"", "{", "{\"a\":}", "nul", "[1,2"}) {
    try {
      parse_body(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid);
      EXPECT_EQ(e.message(), "Request body must be valid JSON.");
      EXPECT_FALSE(e.detail().empty());
    }
  }
  std::string deep(100000, '[');
  EXPECT_EQ(code_of([&] { parse_body(deep); }), ErrorCode::invalid);
}

TEST(ObjectReader, ReadsTypedFieldsAndNamesWrongTypes) {
  ObjectReader r(parse_body(R"({"s":"x","i":5,"b":true,"a":["p","q"],"n":null})"));
  EXPECT_EQ(r.string("s"), "x");
  EXPECT_EQ(r.integer("i"), 5);
  EXPECT_EQ(r.boolean("b"), true);
  EXPECT_EQ(r.string_array("a")->size(), 2u);
  EXPECT_FALSE(r.string("n"));
  EXPECT_FALSE(r.string("missing"));
  try {
    r.string("i");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.detail().find("\"i\""), std::string::npos);
  }
}

// Found by fuzz/fuzz_json: a double outside int64's range was converted before the range
// check (undefined behaviour, reported by UBSan).
TEST(ObjectReader, RefusesIntegersOutsideInt64BeforeConvertingThem) {
  ObjectReader r(parse_body(R"({"low":-9303227236854775808,"high":1e300,"ok":1e3,"half":2.5})"));
  EXPECT_EQ(code_of([&] { r.integer("low"); }), ErrorCode::invalid);
  EXPECT_EQ(code_of([&] { r.integer("high"); }), ErrorCode::invalid);
  EXPECT_EQ(code_of([&] { r.integer("half"); }), ErrorCode::invalid);
  EXPECT_EQ(r.integer("ok"), 1000);
}

// Found by fuzz/fuzz_json: Boost.JSON reads 1e400 as an infinity and writes it back as
// `Infinity`, which no JSON parser (Berth's included) reads; Go's decoder refuses the number.
TEST(ParseBody, RefusesNumbersBeyondTheRangeOfADouble) {
  for (const char* bad :
       {R"({"count":-9303227236854775808e300})", R"([1e400])", R"({"a":{"b":[0,-1E999]}})"})
    EXPECT_EQ(code_of([&] { parse_body(bad); }), ErrorCode::invalid) << bad;
  EXPECT_EQ(serialize(parse_body(R"([1.7e308,-4.9e-324,1e-400])")), "[1.7E308,-5E-324,0E0]");
}

TEST(ObjectReader, RejectsNonObjectsAndCollectsValidations) {
  EXPECT_EQ(code_of([] { ObjectReader r(parse_body("[1]")); }), ErrorCode::invalid);
  ObjectReader r(parse_body(R"({"email":""})"));
  r.required_string("email");
  r.required_string("username");
  try {
    r.finish();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "Validation failed.");
    ASSERT_EQ(e.validations().size(), 2u);
    EXPECT_EQ(e.validations()[0].field, "email");
    EXPECT_EQ(e.validations()[1].field, "username");
  }
}

}  // namespace
}  // namespace berth::json
