// Maps the user's memberlist and limits options onto the gossip member's and the KV store's configuration.
#pragma once

#include "exporter/config.h"
#include "gossip/config.h"
#include "ring/kv_store.h"

namespace ringwatch {

gossip::MemberConfig member_config(const Config& config);

// The KV store's options: tombstone timeout, the given ring names and the -limits.* bounds.
ring::StoreOptions store_options(const Config& config, ring::RingNames names);

}  // namespace ringwatch
