// memberlist protocol messages: type bytes, wire structs and their msgpack codecs
// (memberlist-wire.md §1.1, §2.4).
//
// encode() appends the type byte and the msgpack body exactly as a Go node writes
// it (sorted keys, omitempty honoured). decode() reads one msgpack body (the
// type byte already consumed) with Go's tolerance; unknown keys are skipped.
// Byte-slice fields are empty for both nil and zero-length; empty Addr/Meta/
// Payload/Target encode as nil (c0), which is what Go nodes send for them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "gossip/bytes.h"
#include "gossip/msgpack.h"

namespace ringwatch::gossip {

enum class MessageType : std::uint8_t {
  ping = 0,
  indirect_ping = 1,
  ack_resp = 2,
  suspect = 3,
  alive = 4,
  dead = 5,
  push_pull = 6,
  compound = 7,
  user = 8,
  compress = 9,
  encrypt = 10,
  nack_resp = 11,
  has_crc = 12,
  err = 13,
  has_label = 244,
};

// "ping", "ackResp", ... (Go identifiers without "Msg"); "unknown" otherwise.
const char* message_type_name(std::uint8_t type);

// Protocol/delegate version vector, always 6 bytes on the wire.
struct Vsn {
  std::array<std::uint8_t, 6> v{1, 5, 2, 0, 0, 0};  // PMin PMax PCur DMin DMax DCur
  std::uint8_t pmin() const { return v[0]; }
  std::uint8_t pmax() const { return v[1]; }
  std::uint8_t pcur() const { return v[2]; }
  bool operator==(const Vsn&) const = default;
};

enum class NodeState : std::int64_t { alive = 0, suspect = 1, dead = 2, left = 3 };

struct Ping {
  std::string node;  // the node the sender believes it pings; "" = anyone
  std::uint32_t seq_no = 0;
  Bytes source_addr;  // omitempty
  std::string source_node;  // omitempty
  std::uint16_t source_port = 0;  // omitempty
  bool operator==(const Ping&) const = default;
};

struct IndirectPingReq {
  bool nack = false;
  std::string node;
  std::uint16_t port = 0;
  std::uint32_t seq_no = 0;
  Bytes source_addr;  // omitempty
  std::string source_node;  // omitempty
  std::uint16_t source_port = 0;  // omitempty
  Bytes target;
  bool operator==(const IndirectPingReq&) const = default;
};

struct AckResp {
  std::uint32_t seq_no = 0;
  Bytes payload;
  bool operator==(const AckResp&) const = default;
};

struct NackResp {
  std::uint32_t seq_no = 0;
  bool operator==(const NackResp&) const = default;
};

struct ErrResp {
  std::string error;
  bool operator==(const ErrResp&) const = default;
};

// suspect (3) and dead (5) share one layout; dead with from == node is a leave.
struct Suspect {
  std::uint32_t incarnation = 0;
  std::string node;
  std::string from;
  bool operator==(const Suspect&) const = default;
};
struct Dead {
  std::uint32_t incarnation = 0;
  std::string node;
  std::string from;
  bool operator==(const Dead&) const = default;
};

struct Alive {
  std::uint32_t incarnation = 0;
  std::string node;
  Bytes addr;  // 4 bytes or 16 (IPv6 / IPv4-mapped); kept in the form received
  std::uint16_t port = 0;
  Bytes meta;
  Vsn vsn;
  bool operator==(const Alive&) const = default;
};

struct PushPullHeader {
  std::int64_t nodes = 0;
  std::int64_t user_state_len = 0;
  bool join = false;
  bool operator==(const PushPullHeader&) const = default;
};

struct PushNodeState {
  std::string name;
  Bytes addr;
  std::uint16_t port = 0;
  Bytes meta;
  std::uint32_t incarnation = 0;
  NodeState state = NodeState::alive;  // other values are kept as received (Go ignores them)
  Vsn vsn;
  bool operator==(const PushNodeState&) const = default;
};

struct UserMsgHeader {
  std::int64_t user_msg_len = 0;
  bool operator==(const UserMsgHeader&) const = default;
};

struct Compress {
  std::uint8_t algo = 0;  // 0 LZW, 1 snappy
  Bytes buf;
  bool operator==(const Compress&) const = default;
};

// A packet-level user message: `08` then the delegate payload (dskit: one KeyValuePair).
struct UserPacket {
  Bytes payload;
  bool operator==(const UserPacket&) const = default;
};

// Encoders: append [type byte][msgpack body] to out (UserPacket: [08][payload];
// PushPullHeader/PushNodeState/UserMsgHeader: body only, no type byte, because
// they are parts of a larger stream message).
void encode(const Ping& m, Bytes& out);
void encode(const IndirectPingReq& m, Bytes& out);
void encode(const AckResp& m, Bytes& out);
void encode(const NackResp& m, Bytes& out);
void encode(const ErrResp& m, Bytes& out);
void encode(const Suspect& m, Bytes& out);
void encode(const Alive& m, Bytes& out);
void encode(const Dead& m, Bytes& out);
void encode(const Compress& m, Bytes& out);
void encode(const UserPacket& m, Bytes& out);
// Go `int` fields (Nodes, UserStateLen, State, UserMsgLen) follow int_form.
void encode(const PushPullHeader& m, Bytes& out, msgpack::IntForm int_form = msgpack::IntForm::signed_v2);
void encode(const PushNodeState& m, Bytes& out, msgpack::IntForm int_form = msgpack::IntForm::signed_v2);
void encode(const UserMsgHeader& m, Bytes& out, msgpack::IntForm int_form = msgpack::IntForm::signed_v2);

template <class M>
Bytes encode(const M& m) {
  Bytes out;
  encode(m, out);
  return out;
}

// Decoders: one msgpack body from r (no type byte). A Vsn that is present but
// not 6 bytes long is Reject::invalid (it makes Go nodes panic); absent stays default.
Status decode(msgpack::Reader& r, Ping& m);
Status decode(msgpack::Reader& r, IndirectPingReq& m);
Status decode(msgpack::Reader& r, AckResp& m);
Status decode(msgpack::Reader& r, NackResp& m);
Status decode(msgpack::Reader& r, ErrResp& m);
Status decode(msgpack::Reader& r, Suspect& m);
Status decode(msgpack::Reader& r, Alive& m);
Status decode(msgpack::Reader& r, Dead& m);
Status decode(msgpack::Reader& r, Compress& m);
Status decode(msgpack::Reader& r, PushPullHeader& m);
Status decode(msgpack::Reader& r, PushNodeState& m);
Status decode(msgpack::Reader& r, UserMsgHeader& m);

// Decodes a msgpack body from a complete buffer; trailing bytes are ignored as Go does.
template <class M>
Result<M> decode_body(ByteView body) {
  msgpack::Reader r(body);
  M m;
  if (auto s = decode(r, m); !s) return s.error();
  return m;
}

// One decoded packet-level message (what Go's packet dispatcher handles).
using Message = std::variant<Ping, IndirectPingReq, AckResp, Suspect, Alive, Dead, UserPacket, NackResp>;

MessageType message_type(const Message& m);
void encode(const Message& m, Bytes& out);

// Decodes one complete message [type][body] of a type in Message. Compound (7),
// compress (9) and the other framing types are Reject::unknown_type here; see packet.h.
Result<Message> decode_message(ByteView msg);

// Address helpers. format_ip: "a.b.c.d" for 4-byte and IPv4-mapped 16-byte
// forms, RFC 5952 text for other 16-byte forms, "" for any other length.
std::string format_ip(ByteView addr);
// "ip:port" as Go's net.JoinHostPort writes it (IPv6 in brackets).
std::string format_host_port(ByteView addr, std::uint16_t port);
enum class AddrForm { v4_4byte, v4_mapped16 };
// Parses an IP literal. IPv4 text yields the requested form; IPv6 text always 16 bytes.
Result<Bytes> parse_ip(std::string_view text, AddrForm ipv4_form = AddrForm::v4_mapped16);

}  // namespace ringwatch::gossip
