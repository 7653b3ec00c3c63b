#include "gossip/broadcast_queue.h"

#include <algorithm>
#include <cmath>

namespace ringwatch::gossip {

int retransmit_limit(int retransmit_factor, std::size_t cluster_size) {
  auto scale = static_cast<int>(std::ceil(std::log10(static_cast<double>(cluster_size) + 1.0)));
  return retransmit_factor * scale;
}

void BroadcastQueue::queue(std::string subject, Bytes message) {
  std::erase_if(items_, [&](const Item& it) { return it.subject == subject; });
  items_.push_back(Item{std::move(subject), std::move(message), 0, next_id_++});
}

std::vector<Bytes> BroadcastQueue::take(std::size_t overhead, std::size_t budget, std::size_t cluster_size) {
  std::vector<Bytes> out;
  if (items_.empty()) return out;
  const int limit = retransmit_limit(factor_, cluster_size);
  // Go's btree order: fewest transmits, then longest, then newest.
  std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) {
    if (a.transmits != b.transmits) return a.transmits < b.transmits;
    if (a.message.size() != b.message.size()) return a.message.size() > b.message.size();
    return a.id > b.id;
  });
  std::size_t used = 0;
  for (auto& item : items_) {
    if (used + overhead >= budget) break;
    if (item.message.size() + overhead + used > budget) continue;
    used += item.message.size() + overhead;
    out.push_back(item.message);
    ++item.transmits;
  }
  std::erase_if(items_, [&](const Item& it) { return it.transmits >= limit; });
  return out;
}

bool BroadcastQueue::pending(const std::string& subject) const {
  return std::any_of(items_.begin(), items_.end(), [&](const Item& it) { return it.subject == subject; });
}

}  // namespace ringwatch::gossip
