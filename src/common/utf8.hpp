#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

// Where `text` stops being well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF): the offset of the first byte that does not start a valid sequence,
// or nullopt when all of it is valid.
std::optional<std::size_t> invalid_utf8_offset(std::string_view text);

// `text` with each byte that does not belong to a valid sequence replaced by U+FFFD, as Go's
// encoding/json does when it writes a string; valid text is returned unchanged. For text from
// outside (files, processes, peers) on its way into JSON, which must be valid UTF-8.
std::string valid_utf8(std::string text);

}  // namespace berth
