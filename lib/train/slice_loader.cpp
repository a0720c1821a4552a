#include "dlk/train/slice_loader.h"
#include "dlk/core/error.h"
#include "dlk/core/thread_group.h"

#include <torch/torch.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace dlk {

struct SliceLoader::Impl {
  std::vector<std::shared_ptr<ShardFile>> shards;
  int threads;
  bool pin;
  int64_t prefetch;

  std::mutex mu;
  std::condition_variable ready, room;
  ThreadGroup pool;
  std::vector<std::vector<SliceRef>> batches;
  int64_t n_batches = 0, next_claim = 0, next_take = 0, generation = 0;
  std::map<int64_t, std::vector<LoadedSlice>> done;
  std::string error;
  bool quit = false;
  std::atomic<int64_t> decoded{0};
  std::chrono::steady_clock::time_point t0;
  double busy_seconds = 0;

  LoadedSlice load(const SliceRef& r) {
    const ShardFile& f = *shards[size_t(r.shard)];
    Slice s = f.read_slice(r.slice);
    const ShardMeta& m = f.meta();
    auto opts = torch::TensorOptions().pinned_memory(pin);
    LoadedSlice out;
    out.shard = r.shard;
    out.image = torch::empty({m.channel_count(), m.height, m.width}, opts.dtype(torch::kFloat32));
    std::memcpy(out.image.data_ptr<float>(), s.image.data(), s.image.size() * sizeof(float));
    if (!m.has_label) return out; // no label tensor rather than one of uninitialised memory
    out.label = torch::empty({m.height, m.width}, opts.dtype(torch::kInt64));
    int64_t* lab = out.label.data_ptr<int64_t>();
    for (size_t i = 0; i < s.label.size(); ++i) lab[i] = s.label[i];
    return out;
  }

  void worker() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      room.wait(lock, [&] { return quit || (next_claim < n_batches && next_claim < next_take + prefetch); });
      if (quit) return;
      const int64_t b = next_claim++, gen = generation;
      std::vector<SliceRef> refs = batches[size_t(b)];
      lock.unlock();
      std::vector<LoadedSlice> out;
      std::string err;
      try {
        for (auto& r : refs) out.push_back(load(r));
      } catch (const std::exception& e) {
        err = e.what();
      }
      decoded += int64_t(refs.size());
      lock.lock();
      if (gen != generation) continue; // the epoch was restarted meanwhile
      if (!err.empty() && error.empty()) error = err;
      done.emplace(b, std::move(out));
      ready.notify_all();
    }
  }
};

SliceLoader::SliceLoader(std::vector<std::shared_ptr<ShardFile>> shards, int threads, bool pin_memory, int prefetch)
    : impl_(std::make_unique<Impl>()) {
  impl_->shards = std::move(shards);
  impl_->threads = std::max(1, threads);
  impl_->pin = pin_memory;
  impl_->prefetch = std::max(1, prefetch);
  try {
    impl_->pool.start(impl_->threads, [this] { impl_->worker(); });
  } catch (...) { // the threads that did start wait for work: release and join them
    stop();
    throw;
  }
}

SliceLoader::~SliceLoader() { stop(); }

void SliceLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->quit = true;
  }
  impl_->room.notify_all();
  impl_->ready.notify_all();
  impl_->pool.join();
}

void SliceLoader::start(std::vector<SliceRef> order, int64_t batch, int64_t first) {
  std::vector<std::vector<SliceRef>> batches;
  batch = std::max<int64_t>(1, batch);
  for (size_t from = 0; from < order.size(); from += size_t(batch))
    batches.emplace_back(order.begin() + long(from), order.begin() + long(std::min(order.size(), from + size_t(batch))));
  start_batches(std::move(batches), first);
}

void SliceLoader::start_batches(std::vector<std::vector<SliceRef>> batches, int64_t first) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->batches = std::move(batches);
  impl_->n_batches = int64_t(impl_->batches.size());
  impl_->next_claim = impl_->next_take = std::min(first, impl_->n_batches);
  impl_->done.clear();
  impl_->error.clear();
  ++impl_->generation;
  impl_->decoded = 0;
  impl_->t0 = std::chrono::steady_clock::now();
  impl_->room.notify_all();
}

bool SliceLoader::next(std::vector<LoadedSlice>& out) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (impl_->next_take >= impl_->n_batches) return false;
  const int64_t b = impl_->next_take;
  impl_->ready.wait(lock, [&] { return impl_->done.count(b) > 0; });
  if (!impl_->error.empty()) throw Error(impl_->error);
  out = std::move(impl_->done[b]);
  impl_->done.erase(b);
  ++impl_->next_take;
  impl_->room.notify_all();
  return true;
}

double SliceLoader::slices_per_second() const {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->t0).count();
  return s > 0 ? double(impl_->decoded) / s : 0;
}

} // namespace dlk
