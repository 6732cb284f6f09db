#include "services/hub_emulator/text.h"

#include <cstdint>

namespace modelcatalog {
namespace hub_emulator {
namespace {

char32_t FoldCodePoint(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  // Latin-1: À..Þ except the multiplication sign.
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  // Latin Extended-A: mostly upper/lower pairs; which member is upper case
  // flips twice in the block.
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';   // İ
    if (c == 0x178) return 0xFF;  // Ÿ
    if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
        (c >= 0x14A && c <= 0x177)) {
      return (c % 2 == 0) ? c + 1 : c;
    }
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
      return (c % 2 == 1) ? c + 1 : c;
    }
    return c;
  }
  // Greek.
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c == 0x3C2) return 0x3C3;  // final sigma matches sigma
  // Cyrillic.
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  // Latin Extended Additional (Vietnamese and others): even code points are upper case.
  if (((c >= 0x1E00 && c <= 0x1E94) || (c >= 0x1EA0 && c <= 0x1EFF)) && c % 2 == 0) {
    return c + 1;
  }
  if (c == 0x1E9E) return 0xDF;  // capital sharp s
  // Fullwidth Latin.
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Decodes one UTF-8 sequence at text[*i]; returns false (consuming nothing)
// if it is not a valid, shortest-form sequence.
bool DecodeUtf8(absl::string_view text, size_t* i, char32_t* c) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(*i);
  int length;
  char32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    value = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    value = b0 & 0x07;
  } else {
    return false;
  }
  if (*i + length > text.size()) return false;
  for (int k = 1; k < length; ++k) {
    const uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) return false;
    value = (value << 6) | (b & 0x3F);
  }
  if ((length == 3 && value < 0x800) || (length == 4 && (value < 0x10000 || value > 0x10FFFF)) ||
      (value >= 0xD800 && value <= 0xDFFF)) {
    return false;
  }
  *i += length;
  *c = value;
  return true;
}

}  // namespace

std::string FoldCase(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
      continue;
    }
    char32_t c;
    if (DecodeUtf8(text, &i, &c)) {
      AppendUtf8(FoldCodePoint(c), &out);
    } else {
      out.push_back(text[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace hub_emulator
}  // namespace modelcatalog
