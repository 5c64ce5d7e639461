#include "model/tokenizer_bpe.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <string>

namespace dsv3::model {
namespace {

inline uint64_t mix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0xff51afd7ed558ccdULL);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
  }
  return mix(h);
}

std::atomic<uint64_t> g_next_instance{1};

// A word cache owned by one thread: open addressing over an arena of keys and ids.
// When it fills up it starts over (HF stops inserting instead; either way results are
// the same, only speed differs).
class WordCache {
 public:
  static constexpr size_t kSlots = 1 << 16;
  static constexpr size_t kMaxEntries = kSlots / 2;
  static constexpr size_t kMaxKey = 255;

  void reset(uint64_t owner) {
    owner_ = owner;
    if (slots_.empty()) slots_.resize(kSlots);
    std::fill(slots_.begin(), slots_.end(), Entry{});
    keys_.clear();
    ids_.clear();
    entries_ = 0;
  }
  uint64_t owner() const { return owner_; }

  // Appends the cached ids of word to out and returns true on a hit.
  bool get(std::string_view word, uint64_t h, std::vector<int32_t>& out) const {
    size_t i = h & (kSlots - 1);
    while (true) {
      const Entry& e = slots_[i];
      if (e.klen == 0) return false;
      if (e.hash == h && e.klen == word.size() && std::memcmp(keys_.data() + e.koff, word.data(), word.size()) == 0) {
        out.insert(out.end(), ids_.begin() + e.voff, ids_.begin() + e.voff + e.vlen);
        return true;
      }
      i = (i + 1) & (kSlots - 1);
    }
  }

  void put(std::string_view word, uint64_t h, const int32_t* ids, size_t n) {
    if (entries_ >= kMaxEntries) reset(owner_);
    size_t i = h & (kSlots - 1);
    while (slots_[i].klen != 0) i = (i + 1) & (kSlots - 1);
    Entry& e = slots_[i];
    e.hash = h;
    e.koff = static_cast<uint32_t>(keys_.size());
    e.klen = static_cast<uint32_t>(word.size());
    e.voff = static_cast<uint32_t>(ids_.size());
    e.vlen = static_cast<uint32_t>(n);
    keys_.append(word);
    ids_.insert(ids_.end(), ids, ids + n);
    ++entries_;
  }

 private:
  struct Entry {
    uint64_t hash = 0;
    uint32_t koff = 0, klen = 0, voff = 0, vlen = 0;
  };
  uint64_t owner_ = 0;
  std::vector<Entry> slots_;
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t entries_ = 0;
};

// Each thread keeps caches for the few models it used last (several tokenizers in one
// process then do not evict each other's words at every switch).
WordCache& thread_cache(uint64_t owner) {
  constexpr size_t kCaches = 4;
  thread_local WordCache caches[kCaches];
  thread_local uint64_t last_use[kCaches] = {};
  thread_local uint64_t clock = 0;
  size_t pick = 0;
  for (size_t i = 0; i < kCaches; ++i) {
    if (caches[i].owner() == owner) {
      last_use[i] = ++clock;
      return caches[i];
    }
    if (last_use[i] < last_use[pick]) pick = i;
  }
  caches[pick].reset(owner);
  last_use[pick] = ++clock;
  return caches[pick];
}

}  // namespace

BpeModel::BpeModel(const std::array<int32_t, 256>& byte_ids, const std::vector<Merge>& merges, int32_t unk_id,
                   bool fuse_unk)
    : byte_ids_(byte_ids), unk_id_(unk_id), fuse_unk_(fuse_unk), instance_(g_next_instance++) {
  size_t cap = 16;
  while (cap < merges.size() * 2 + 16) cap <<= 1;
  table_.assign(cap, Slot{kEmpty, 0, 0});
  mask_ = cap - 1;
  for (size_t r = 0; r < merges.size(); ++r) {
    const Merge& m = merges[r];
    uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(m.left)) << 32) | static_cast<uint32_t>(m.right);
    size_t i = mix(key) & mask_;
    while (table_[i].key != kEmpty && table_[i].key != key) i = (i + 1) & mask_;
    if (table_[i].key == kEmpty) ++num_merges_;
    // A repeated pair takes its later rank, as HF's map built from the list does.
    table_[i] = Slot{key, static_cast<int32_t>(r), m.merged};
  }
}

const BpeModel::Slot* BpeModel::find_pair(int32_t left, int32_t right) const {
  uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  size_t i = mix(key) & mask_;
  while (true) {
    const Slot& s = table_[i];
    if (s.key == key) return &s;
    if (s.key == kEmpty) return nullptr;
    i = (i + 1) & mask_;
  }
}

void BpeModel::initial_symbols(std::string_view piece, std::vector<int32_t>& ids) const {
  ids.clear();
  int32_t pending_unk = -1;  // HF keeps one unknown symbol pending so it can fuse runs
  for (unsigned char b : piece) {
    int32_t id = byte_ids_[b];
    if (id >= 0) {
      if (pending_unk >= 0) ids.push_back(pending_unk), pending_unk = -1;
      ids.push_back(id);
    } else if (unk_id_ >= 0) {
      if (pending_unk >= 0 && !fuse_unk_) ids.push_back(pending_unk);
      pending_unk = unk_id_;
    }
  }
  if (pending_unk >= 0) ids.push_back(pending_unk);
}

// Short words: keep each adjacent pair's rank, merge the lowest (leftmost on ties).
void BpeModel::merge_linear(std::vector<int32_t>& ids) const {
  thread_local std::vector<int32_t> ranks;
  thread_local std::vector<int32_t> merged;
  size_t n = ids.size();
  if (n < 2) return;
  ranks.resize(n - 1);
  merged.resize(n - 1);
  for (size_t i = 0; i + 1 < n; ++i) {
    const Slot* s = find_pair(ids[i], ids[i + 1]);
    ranks[i] = s ? s->rank : INT_MAX;
    merged[i] = s ? s->merged : -1;
  }
  while (n > 1) {
    size_t best = 0;
    int32_t best_rank = ranks[0];
    for (size_t i = 1; i + 1 < n; ++i)
      if (ranks[i] < best_rank) best_rank = ranks[i], best = i;
    if (best_rank == INT_MAX) break;
    ids[best] = merged[best];
    ids.erase(ids.begin() + static_cast<ptrdiff_t>(best) + 1);
    ranks.erase(ranks.begin() + static_cast<ptrdiff_t>(best));
    merged.erase(merged.begin() + static_cast<ptrdiff_t>(best));
    --n;
    if (best > 0) {
      const Slot* s = find_pair(ids[best - 1], ids[best]);
      ranks[best - 1] = s ? s->rank : INT_MAX;
      merged[best - 1] = s ? s->merged : -1;
    }
    if (best + 1 < n) {
      const Slot* s = find_pair(ids[best], ids[best + 1]);
      ranks[best] = s ? s->rank : INT_MAX;
      merged[best] = s ? s->merged : -1;
    }
  }
}

// Long words: HF's algorithm, a priority queue of (rank, position) over a linked list.
void BpeModel::merge_heap(std::vector<int32_t>& ids) const {
  struct Sym {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  struct Entry {
    int32_t rank, pos, merged;
  };
  auto later = [](const Entry& a, const Entry& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
  const int32_t n = static_cast<int32_t>(ids.size());
  if (n < 2) return;
  std::vector<Sym> sym(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) sym[i] = Sym{ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};
  std::vector<Entry> heap;
  heap.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i + 1 < n; ++i)
    if (const Slot* s = find_pair(ids[i], ids[i + 1])) heap.push_back(Entry{s->rank, i, s->merged});
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Entry top = heap.back();
    heap.pop_back();
    Sym& cur = sym[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    const Sym right = sym[cur.next];
    const Slot* s = find_pair(cur.id, right.id);
    if (!s || s->merged != top.merged) continue;  // stale entry
    cur.id = top.merged;
    sym[cur.next].alive = false;
    cur.next = right.next;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    if (cur.prev >= 0) {
      if (const Slot* p = find_pair(sym[cur.prev].id, cur.id)) {
        heap.push_back(Entry{p->rank, cur.prev, p->merged});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
    if (cur.next >= 0) {
      if (const Slot* q = find_pair(cur.id, sym[cur.next].id)) {
        heap.push_back(Entry{q->rank, top.pos, q->merged});
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  }
  ids.clear();
  for (int32_t i = 0; i < n; ++i)
    if (sym[i].alive) ids.push_back(sym[i].id);
}

void BpeModel::tokenize_uncached(std::string_view piece, std::vector<int32_t>& out, bool use_heap) const {
  thread_local std::vector<int32_t> ids;
  initial_symbols(piece, ids);
  if (use_heap)
    merge_heap(ids);
  else
    merge_linear(ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {
    int32_t id = byte_ids_[static_cast<unsigned char>(piece[0])];
    if (id >= 0)
      out.push_back(id);
    else if (unk_id_ >= 0)
      out.push_back(unk_id_);
    return;
  }
  if (piece.size() > WordCache::kMaxKey) {
    tokenize_uncached(piece, out, /*use_heap=*/true);
    return;
  }
  WordCache& cache = thread_cache(instance_);
  const uint64_t h = hash_bytes(piece);
  if (cache.get(piece, h, out)) return;
  size_t before = out.size();
  tokenize_uncached(piece, out, /*use_heap=*/piece.size() > 64);
  cache.put(piece, h, out.data() + before, out.size() - before);
}

}  // namespace dsv3::model
