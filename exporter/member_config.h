// Maps the user's memberlist options onto the gossip member's configuration.
#pragma once

#include "exporter/config.h"
#include "gossip/config.h"

namespace ringwatch {

gossip::MemberConfig member_config(const Config& config);

}  // namespace ringwatch
