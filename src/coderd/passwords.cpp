#include "coderd/passwords.hpp"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr double kMinEntropyBits = 52;
constexpr std::size_t kMaxPasswordLength = 64;
// argon2id at OWASP's recommended floor (t=2, m=19 MiB): slow for attackers, quick enough
// that logins and tests do not wait.
constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 19 * 1024 * 1024;

constexpr std::string_view kReplaceChars = "!@$&*";
constexpr std::string_view kSeparatorChars = "_-., ";
constexpr std::string_view kOtherSpecialChars = "\"#%'()+/:;<=>?[\\]^{|}~";

bool in(std::string_view set, char c) {
  return set.find(c) != std::string_view::npos;
}

// Keeps at most two of any run of identical characters.
std::string remove_repeats(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto n = out.size();
    if (n >= 2 && out[n - 1] == c && out[n - 2] == c) continue;
    out += c;
  }
  return out;
}

// Keeps at most two consecutive characters that follow `sequence` (as in "abcd" or "1234").
std::string remove_sequence(std::string_view s, std::string_view sequence) {
  std::string out;
  int run = 0;
  char previous = 0;
  for (char c : s) {
    auto pos = sequence.find(c);
    bool follows =
        previous != 0 && pos != std::string_view::npos && pos > 0 && sequence[pos - 1] == previous;
    run = follows ? run + 1 : 1;
    previous = c;
    if (run > 2) continue;
    out += c;
  }
  return out;
}

std::string reduced(std::string_view password) {
  std::string s = remove_repeats(password);
  std::vector<std::string> sequences = {"0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm",
                                        "abcdefghijklmnopqrstuvwxyz"};
  for (int i = 0; i < 5; ++i) {
    std::string r(sequences[i].rbegin(), sequences[i].rend());
    sequences.push_back(r);
  }
  for (const auto& seq : sequences) s = remove_sequence(s, seq);
  return s;
}

struct Classes {
  bool replace = false, separator = false, other_special = false;
  bool lower = false, upper = false, digit = false;
  std::set<char> others;
};

Classes classify(std::string_view password) {
  Classes c;
  for (char ch : password) {
    if (in(kReplaceChars, ch))
      c.replace = true;
    else if (in(kSeparatorChars, ch))
      c.separator = true;
    else if (in(kOtherSpecialChars, ch))
      c.other_special = true;
    else if (ch >= 'a' && ch <= 'z')
      c.lower = true;
    else if (ch >= 'A' && ch <= 'Z')
      c.upper = true;
    else if (ch >= '0' && ch <= '9')
      c.digit = true;
    else
      c.others.insert(ch);
  }
  return c;
}

}  // namespace

double password_entropy(std::string_view password) {
  auto c = classify(password);
  double base = (c.replace ? 5 : 0) + (c.separator ? 5 : 0) + (c.other_special ? 22 : 0) +
                (c.lower ? 26 : 0) + (c.upper ? 26 : 0) + (c.digit ? 10 : 0) +
                double(c.others.size());
  if (base == 0) return 0;
  return double(reduced(password).size()) * std::log2(base);
}

std::optional<std::string> password_problem(std::string_view password) {
  if (password_entropy(password) < kMinEntropyBits) {
    auto c = classify(password);
    std::vector<std::string> hints;
    if (!(c.replace && c.separator && c.other_special))
      hints.push_back("including more special characters");
    if (!c.lower) hints.push_back("using lowercase letters");
    if (!c.upper) hints.push_back("using uppercase letters");
    if (!c.digit) hints.push_back("using numbers");
    std::string joined;
    for (const auto& h : hints) joined += (joined.empty() ? "" : ", ") + h;
    if (joined.empty()) return "insecure password, try using a longer password";
    return "insecure password, try " + joined + " or using a longer password";
  }
  if (password.size() > kMaxPasswordLength) return "password must be no more than 64 characters";
  return std::nullopt;
}

std::string hash_password(std::string_view password) {
  if (sodium_init() < 0) throw Error{ErrorCode::internal, "libsodium failed to initialize."};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw Error{ErrorCode::internal, "Hashing the password failed (out of memory)."};
  return out;
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace berth::coderd
