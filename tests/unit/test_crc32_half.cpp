#include "dlk/core/crc32.h"
#include "dlk/core/half.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

TEST_CASE("crc32: the standard check value and incremental use", "[crc32]") {
  // CRC-32/ISO-HDLC check value of "123456789" (as zlib's crc32 gives it).
  CHECK(dlk::crc32("123456789", 9) == 0xCBF43926u);
  CHECK(dlk::crc32("", 0) == 0u);
  CHECK(dlk::crc32("6789", 4, dlk::crc32("12345", 5)) == 0xCBF43926u);
}

TEST_CASE("half: IEEE binary16 encodings", "[half]") {
  using dlk::float_to_half;
  CHECK(float_to_half(0.0f) == 0x0000);
  CHECK(float_to_half(-0.0f) == 0x8000);
  CHECK(float_to_half(1.0f) == 0x3C00);
  CHECK(float_to_half(-2.0f) == 0xC000);
  CHECK(float_to_half(0.5f) == 0x3800);
  CHECK(float_to_half(65504.0f) == 0x7BFF);               // largest finite
  CHECK(float_to_half(65519.0f) == 0x7BFF);               // rounds down to it
  CHECK(float_to_half(65520.0f) == 0x7C00);               // rounds up to infinity
  CHECK(float_to_half(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
  CHECK(float_to_half(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even: 0
  CHECK(float_to_half(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(float_to_half(0.1f) == 0x2E66);                   // 0.0999755859375
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3C00); // halfway, even stays
  CHECK(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02); // halfway, odd rounds up
  CHECK(float_to_half(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK((float_to_half(std::nanf("")) & 0x7C00) == 0x7C00);
  CHECK((float_to_half(std::nanf("")) & 0x03FF) != 0);
}

TEST_CASE("half: every finite half converts to float and back unchanged", "[half]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue; // NaN payloads
    float f = dlk::half_to_float(uint16_t(h));
    REQUIRE(dlk::float_to_half(f) == h);
  }
  CHECK(dlk::half_to_float(0x3C00) == 1.0f);
  CHECK(dlk::half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(dlk::half_to_float(0x7BFF) == 65504.0f);
}

TEST_CASE("half: rounding error is at most half an ulp", "[half]") {
  for (float f = -3.0f; f < 3.0f; f += 0.0013f) {
    float back = dlk::half_to_float(dlk::float_to_half(f));
    int e = 0;
    std::frexp(f, &e); // |f| in [2^(e-1), 2^e): a half's ulp there is 2^(e-11)
    float half_ulp = std::fabs(f) < std::ldexp(1.0f, -14) ? std::ldexp(1.0f, -25) : std::ldexp(1.0f, e - 12);
    REQUIRE(std::fabs(back - f) <= half_ulp);
  }
}

TEST_CASE("half: the bulk (F16C) conversion agrees with the scalar one bit for bit", "[half]") {
  std::vector<float> in;
  for (uint32_t h = 0; h < 0x10000; ++h) in.push_back(dlk::half_to_float(uint16_t(h)));
  for (float f = -70000.0f; f < 70000.0f; f += 3.7f) in.push_back(f);
  for (int e = -30; e < 20; ++e) in.push_back(std::ldexp(1.337f, e));
  in.push_back(std::numeric_limits<float>::infinity());
  in.push_back(-std::numeric_limits<float>::infinity());
  std::vector<uint16_t> simd(in.size()), scalar(in.size());
  dlk::floats_to_halves(in.data(), simd.data(), in.size(), true);
  dlk::floats_to_halves(in.data(), scalar.data(), in.size(), false);
  for (size_t i = 0; i < in.size(); ++i) {
    const bool nan = (scalar[i] & 0x7C00) == 0x7C00 && (scalar[i] & 0x3FF);
    INFO("value " << in[i]);
    REQUIRE((nan ? (simd[i] & 0x7C00) == 0x7C00 && (simd[i] & 0x3FF) : simd[i] == scalar[i]));
  }
  std::vector<float> back_simd(in.size()), back_scalar(in.size());
  dlk::halves_to_floats(scalar.data(), back_simd.data(), in.size(), true);
  dlk::halves_to_floats(scalar.data(), back_scalar.data(), in.size(), false);
  for (size_t i = 0; i < in.size(); ++i)
    REQUIRE((std::isnan(back_scalar[i]) ? std::isnan(back_simd[i]) : back_simd[i] == back_scalar[i]));
  INFO("F16C in use: " << dlk::half_simd_available());
  SUCCEED();
}
