// memberlist stream messages (memberlist-wire.md §3.7, §4): push/pull, user
// message, ping/ack and errResp, each optionally compressed (09), encrypted
// (0a) and, from the dialer, preceded by a label header.
//
// Parsing is from a buffer holding what has been read so far: the result is
// either a message with the number of bytes it took, or NeedMore with the
// minimum number of additional bytes before a retry can make progress.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gossip/bytes.h"
#include "gossip/compression.h"
#include "gossip/messages.h"
#include "gossip/security.h"

namespace ringwatch::gossip {

struct PushPull {
  bool join = false;
  std::vector<PushNodeState> nodes;
  Bytes user_state;  // dskit: repeated [u32 BE len][KeyValuePair]
  bool operator==(const PushPull&) const = default;
};

struct StreamUser {
  Bytes payload;
  bool operator==(const StreamUser&) const = default;
};

using StreamMessage = std::variant<PushPull, StreamUser, Ping, AckResp, ErrResp>;

struct StreamLimits {
  std::size_t max_push_state_bytes = 20u * 1024 * 1024;  // UserStateLen and UserMsgLen cap
  std::size_t max_nodes = 1u << 20;
  std::size_t max_decompressed = kDefaultMaxDecompressed;
};

struct StreamDecodeOptions {
  // true on the accepting side, where the dialer may send a label header first.
  bool expect_label = false;
  // Our cluster label: checked against the received header (accepting side)
  // and used as encryption AAD in both directions.
  std::string label{};
  bool skip_label_check = false;
  const Keyring* keyring = nullptr;
  // Go with GossipVerifyIncoming: an unencrypted stream is rejected when a keyring is set.
  bool require_encryption = true;
  StreamLimits limits{};
};

struct StreamLayers {
  std::optional<std::string> label;
  bool encrypted = false;
  bool compressed = false;
};

struct StreamDecoded {
  StreamMessage message;
  StreamLayers layers;
  std::size_t consumed = 0;  // bytes of buf this message took (label included)
};

struct NeedMore {
  std::size_t at_least = 1;
};

using StreamStep = std::variant<NeedMore, StreamDecoded>;

// Parses one stream message from the start of buf. Reject::unknown_type for a
// type Go's stream reader would not dispatch (anything but 0, 2, 6, 8, 13
// after unwrapping); limits give Reject::oversize.
Result<StreamStep> parse_stream_message(ByteView buf, const StreamDecodeOptions& opts);

// Unwrapped message encoders (no compress/encrypt/label). The header's Nodes
// and UserStateLen/UserMsgLen are taken from the contents.
Bytes encode_push_pull(const PushPull& pp, msgpack::IntForm int_form = msgpack::IntForm::signed_v2);
Bytes encode_stream_user(ByteView payload, msgpack::IntForm int_form = msgpack::IntForm::signed_v2);

struct StreamEncodeOptions {
  std::string label{};        // cluster label: encryption AAD, and the header when write_label
  bool write_label = true;  // dialer: true; the accepting side never writes a label
  bool compress = false;   // Go wraps the whole stream message, even if larger
  const Keyring* keyring = nullptr;
  int encryption_version = 1;
  Bytes nonce{};  // 12 bytes when encrypting
};

// message -> compress -> encrypt frame -> label prefix.
Result<Bytes> encode_stream_message(ByteView message, const StreamEncodeOptions& opts);

}  // namespace ringwatch::gossip
