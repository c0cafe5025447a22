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
