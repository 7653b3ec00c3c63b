// The status pages /ring, /memberlist and /propagation: self-contained HTML (sortable tables,
// no external assets) and the same data as JSON with ?format=json. They read snapshots only.
#pragma once

#include <string>
#include <vector>

#include "exporter/config.h"
#include "exporter/http_server.h"
#include "exporter/observer.h"
#include "exporter/propagation.h"
#include "gossip/member.h"

namespace ringwatch {

class StatusPages {
 public:
  StatusPages(Observer& observer, const gossip::Member& member, const PropagationTracker* tracker, RingOptions rings)
      : observer_(observer), member_(member), tracker_(tracker), rings_(std::move(rings)) {}

  HttpResponse ring(const HttpRequest& request) const;
  HttpResponse memberlist(const HttpRequest& request) const;
  HttpResponse propagation(const HttpRequest& request) const;

 private:
  Observer& observer_;
  const gossip::Member& member_;
  const PropagationTracker* tracker_;
  RingOptions rings_;
};

// Registers the three pages on the exporter (and its landing page).
class Exporter;
void add_status_pages(Exporter& exporter, const StatusPages& pages);

}  // namespace ringwatch
