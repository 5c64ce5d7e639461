#pragma once
// The byte-level BPE model: a piece's bytes start as one symbol each (the vocab id of the
// byte's ByteLevel character) and merge through a rank map keyed by (left id, right id),
// lowest rank first and leftmost first among equal ranks, exactly as HF's Word::merge_all.
// Results are cached per word in a cache that belongs to the calling thread (as in HF),
// so one BpeModel serves any number of threads without locks.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace dsv3::model {

class BpeModel {
 public:
  struct Merge {
    int32_t left, right, merged;  // ids; rank = position in the list
  };
  // byte_ids[b]: id of byte b's symbol, or -1 when the vocab lacks it (then the byte is
  // dropped, or becomes unk_id when that is >= 0, as HF's BPE does).
  BpeModel(const std::array<int32_t, 256>& byte_ids, const std::vector<Merge>& merges, int32_t unk_id,
           bool fuse_unk);

  // Appends the ids of one pre-tokenized piece (raw bytes) to out.
  void tokenize(std::string_view piece, std::vector<int32_t>& out) const;

  // The same without the cache, by either merge algorithm (tests compare them).
  void tokenize_uncached(std::string_view piece, std::vector<int32_t>& out, bool use_heap) const;

  size_t num_merges() const { return num_merges_; }

 private:
  struct Slot {
    uint64_t key;  // (left << 32) | right; kEmpty when unused
    int32_t rank;
    int32_t merged;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  const Slot* find_pair(int32_t left, int32_t right) const;
  void initial_symbols(std::string_view piece, std::vector<int32_t>& ids) const;
  void merge_linear(std::vector<int32_t>& ids) const;
  void merge_heap(std::vector<int32_t>& ids) const;

  std::array<int32_t, 256> byte_ids_;
  int32_t unk_id_;
  bool fuse_unk_;
  std::vector<Slot> table_;
  uint64_t mask_ = 0;
  size_t num_merges_ = 0;
  uint64_t instance_ = 0;  // identifies this model to the per-thread caches
};

}  // namespace dsv3::model
