#pragma once
// Byte-level helpers for the tokenizer: GPT-2's byte <-> unicode alphabet (HF ByteLevel),
// UTF-8 validation, and lossy UTF-8 decoding that replaces each maximal invalid subpart
// with U+FFFD exactly like Rust's String::from_utf8_lossy (which HF's decoder uses).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsv3::model::bytes {

// The code point that HF's ByteLevel alphabet uses for byte b ('Ġ' U+0120 for ' ').
char32_t byte_to_codepoint(uint8_t b);

// The byte that code point c stands for, or nothing when c is not in the alphabet.
std::optional<uint8_t> codepoint_to_byte(char32_t c);

// Maps a token string written in the ByteLevel alphabet back to raw bytes; nothing when a
// character is outside the alphabet (HF's decoder then keeps the token's own UTF-8 bytes).
std::optional<std::string> unmap_byte_level(std::string_view token);

// Maps raw bytes to the ByteLevel alphabet (UTF-8 encoded), e.g. " hi" -> "Ġhi".
std::string map_byte_level(std::string_view raw);

// Appends code point c as UTF-8.
void append_utf8(std::string& out, char32_t c);

// Offset of the first byte that makes s invalid UTF-8, or nothing when s is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

// Length (1..4) of the complete, valid UTF-8 sequence that starts at s[0]; 0 when the
// bytes at s[0] are a valid but incomplete prefix (more bytes could complete it);
// -n when the first n bytes form a maximal invalid subpart (to be replaced by one U+FFFD).
int utf8_sequence(std::string_view s);

// Appends s to out, replacing each maximal invalid subpart with U+FFFD (Rust's
// from_utf8_lossy). With hold_incomplete, a valid but incomplete sequence at the very end
// is left out and its length returned (for streaming); otherwise returns 0.
size_t append_utf8_lossy(std::string& out, std::string_view s, bool hold_incomplete = false);

}  // namespace dsv3::model::bytes
