// memberlist's TransmitLimitedQueue (memberlist-wire.md §5.8): encoded alive /
// suspect / dead messages waiting to be piggybacked or gossiped. A new message
// about node X replaces the queued one about X; each message goes out at most
// retransmit_factor × ceil(log10(n + 1)) times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gossip/bytes.h"

namespace ringwatch::gossip {

int retransmit_limit(int retransmit_factor, std::size_t cluster_size);

class BroadcastQueue {
 public:
  explicit BroadcastQueue(int retransmit_factor) : factor_(retransmit_factor) {}

  void queue(std::string subject, Bytes message);

  // Messages to add to one packet: visits the least-transmitted first and within
  // that tier the largest that still fits; each returned message costs len+overhead.
  std::vector<Bytes> take(std::size_t overhead, std::size_t budget, std::size_t cluster_size);

  bool pending(const std::string& subject) const;
  std::size_t size() const { return items_.size(); }
  void clear() { items_.clear(); }

 private:
  struct Item {
    std::string subject;
    Bytes message;
    int transmits = 0;
    std::uint64_t id = 0;  // newer messages win ties, as in Go
  };
  int factor_;
  std::uint64_t next_id_ = 0;
  std::vector<Item> items_;
};

}  // namespace ringwatch::gossip
