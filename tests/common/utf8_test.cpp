#include "common/utf8.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace berth {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  for (std::string ok : {"", "plain ascii", "h\xC3\xA9llo", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                         "\xF4\x8F\xBF\xBF" /* U+10FFFF */, "\xED\x9F\xBF" /* U+D7FF */}) {
    EXPECT_EQ(invalid_utf8_offset(ok), std::nullopt) << ok;
    EXPECT_EQ(valid_utf8(ok), ok);
  }
}

TEST(Utf8, FindsTheFirstByteThatStartsNoValidSequence) {
  struct Case {
    std::string text;
    std::size_t offset;
  };
  for (const auto& c : std::vector<Case>{
           {"\xFF", 0},
           {"ab\x80", 2},                // a stray continuation byte
           {"ok \xC0\x80", 3},           // overlong NUL
           {"\xC3\xA9\xE0\x80\x80", 2},  // overlong three-byte form
           {"\xED\xA0\x80", 0},          // a surrogate (U+D800)
           {"\xF4\x90\x80\x80", 0},      // past U+10FFFF
           {"\xF5\x80\x80\x80", 0},      // no such lead byte
           {"euro \xE2\x82", 5},         // truncated at the end
           {"\xE2\x82"
            "A",
            0},  // truncated before ASCII
       })
    EXPECT_EQ(invalid_utf8_offset(c.text), c.offset) << c.text;
}

TEST(Utf8, ReplacesEachInvalidByteWithU_FFFDAsGoDoes) {
  EXPECT_EQ(valid_utf8("a\xFF"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(valid_utf8("\xE2\x82"
                       "A\xC3\xA9"),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "A\xC3\xA9");
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8, SerializedJsonIsAlwaysValid) {
  json::object doc{{"error", "main.tf:1:1: bad \xFF\xFE name"}, {"k\xC0", "v"}};
  auto text = json::serialize(doc);
  EXPECT_EQ(invalid_utf8_offset(text), std::nullopt) << text;
  auto back = json::parse(text).as_object();  // Boost.JSON refuses invalid UTF-8 on parse
  EXPECT_EQ(back.at("error"), "main.tf:1:1: bad \xEF\xBF\xBD\xEF\xBF\xBD name");
  EXPECT_EQ(back.at("k\xEF\xBF\xBD"), "v");
}

}  // namespace
}  // namespace berth
