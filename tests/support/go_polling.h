// Queries of a Go test peer's control API that ride out a loaded machine: a peer
// that does not answer one HTTP request is asked again until a deadline, so that
// "did not answer" is never mistaken for "does not list the member".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/go_cluster.h"

namespace ringwatch::testing {

// The peer's member list; nullopt only if it did not answer within the timeout.
std::optional<std::vector<GoMember>> members_polled(GoPeer& peer,
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

// State of `name` in `observer`'s view, "" if it is not listed; nullopt only if the
// observer did not answer within the timeout.
std::optional<std::string> state_polled(GoPeer& observer, const std::string& name,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A counter of the peer's GET /stats, nullopt if it did not answer within the timeout.
std::optional<std::uint64_t> stat_polled(GoPeer& peer, const std::string& counter,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace ringwatch::testing
