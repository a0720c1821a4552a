// The training's randomness: every stream is a pure function of (seed, epoch, batch), so that a
// run resumed at any step continues exactly as it would have.
#include "trainer_parts.h"

namespace dlk {

namespace {
uint64_t mix(uint64_t a, uint64_t b) { // splitmix64 of a combination: independent streams per key
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
} // namespace

std::vector<SliceRef> epoch_order(const std::vector<SliceRef>& all, uint64_t seed, int epoch) {
  std::vector<SliceRef> order = all;
  std::mt19937_64 rng(mix(seed, uint64_t(epoch)));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng() % i)]); // Fisher-Yates
  return order;
}

std::vector<SliceRef> oversample_foreground(std::vector<SliceRef> order, const std::vector<SliceRef>& foreground,
                                            const std::vector<std::vector<uint8_t>>& has_foreground, int64_t batch,
                                            double share, uint64_t seed, int epoch) {
  if (!(share > 0) || foreground.empty()) return order;
  constexpr uint64_t kForeground = 0x666f726567726e64ull; // "foregrnd": a stream of its own
  std::mt19937_64 rng(mix(mix(seed, kForeground), uint64_t(epoch)));
  const int64_t n = int64_t(order.size());
  for (int64_t from = 0; from < n; from += batch) {
    const int64_t size = std::min(batch, n - from);
    const auto first_forced = int64_t(std::llround(double(size) * (1 - share)));
    for (int64_t i = first_forced; i < size; ++i) {
      SliceRef& s = order[size_t(from + i)];
      if (!has_foreground[size_t(s.shard)][size_t(s.slice)]) s = foreground[size_t(rng() % foreground.size())];
    }
  }
  return order;
}

std::mt19937_64 augment_rng(uint64_t seed, int epoch, int64_t batch, int64_t index) {
  return std::mt19937_64(mix(mix(seed, uint64_t(epoch)), uint64_t(batch) * 4096 + uint64_t(index)));
}

namespace {
constexpr uint64_t kUnlabelled = 0x756e6c6162656c6cull; // "unlabell": the unlabelled slices' streams
}

std::vector<std::vector<SliceRef>> unlabelled_batches(const std::vector<SliceRef>& all, uint64_t seed, int epoch,
                                                      int64_t batches, int64_t per_batch) {
  std::vector<std::vector<SliceRef>> out(size_t(std::max<int64_t>(batches, 0)));
  if (all.empty()) return out;
  std::vector<SliceRef> pass;
  size_t next = 0;
  int pass_index = 0;
  for (auto& b : out)
    for (int64_t i = 0; i < per_batch; ++i) {
      if (next == pass.size()) { // a new pass over the slices, in an order of its own
        pass = epoch_order(all, mix(mix(seed, kUnlabelled), uint64_t(pass_index++)), epoch);
        next = 0;
      }
      b.push_back(pass[next++]);
    }
  return out;
}

std::mt19937_64 unlabelled_rng(uint64_t seed, int epoch, int64_t batch, int64_t index) {
  return augment_rng(mix(seed, kUnlabelled), epoch, batch, index);
}

} // namespace dlk
