#include "gossip/messages.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace ringwatch::gossip {

using msgpack::IntForm;
using msgpack::Reader;
using msgpack::Writer;

const char* message_type_name(std::uint8_t type) {
  switch (type) {
    case 0: return "ping";
    case 1: return "indirectPing";
    case 2: return "ackResp";
    case 3: return "suspect";
    case 4: return "alive";
    case 5: return "dead";
    case 6: return "pushPull";
    case 7: return "compound";
    case 8: return "user";
    case 9: return "compress";
    case 10: return "encrypt";
    case 11: return "nackResp";
    case 12: return "hasCrc";
    case 13: return "err";
    case 244: return "hasLabel";
    default: return "unknown";
  }
}

namespace {

void put_type(Bytes& out, MessageType t) { out.push_back(static_cast<std::uint8_t>(t)); }

// ---- field readers ----

template <class T>
Status get(Reader& r, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    auto v = r.boolean();
    if (!v) return v.error();
    out = *v;
  } else if constexpr (std::is_same_v<T, std::string>) {
    auto v = r.str();
    if (!v) return v.error();
    out = std::move(*v);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    auto v = r.bytes();
    if (!v) return v.error();
    out = std::move(*v);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    auto v = r.sint();
    if (!v) return v.error();
    out = *v;
  } else if constexpr (std::is_same_v<T, NodeState>) {
    auto v = r.sint();
    if (!v) return v.error();
    out = static_cast<NodeState>(*v);
  } else if constexpr (std::is_same_v<T, Vsn>) {
    auto v = r.bytes();
    if (!v) return v.error();
    if (v->size() != out.v.size()) return fail(Reject::invalid, "Vsn is not 6 bytes");
    std::copy(v->begin(), v->end(), out.v.begin());
  } else {
    static_assert(std::is_unsigned_v<T>);
    auto v = r.uint(std::numeric_limits<T>::max());
    if (!v) return v.error();
    out = static_cast<T>(*v);
  }
  return ok_status();
}

// Walks a struct map: on_field(key, known) reads the value of a known key and
// sets known; unknown keys are skipped as Go does.
template <class F>
Status read_struct(Reader& r, F&& on_field) {
  auto n = r.map_header();
  if (!n) return n.error();
  for (std::uint32_t i = 0; i < *n; ++i) {
    auto key = r.str();
    if (!key) return key.error();
    bool known = true;
    if (auto s = on_field(std::string_view(*key), known); !s) return s;
    if (!known) {
      if (auto s = r.skip(); !s) return s;
    }
  }
  return ok_status();
}

}  // namespace

// ---- encoders (keys in ascending byte order, omitempty honoured) ----

void encode(const Ping& m, Bytes& out) {
  put_type(out, MessageType::ping);
  Writer w(out);
  w.map_header(2 + !m.source_addr.empty() + !m.source_node.empty() + (m.source_port != 0));
  w.key("Node"), w.str(m.node);
  w.key("SeqNo"), w.uint(m.seq_no);
  if (!m.source_addr.empty()) w.key("SourceAddr"), w.raw(m.source_addr);
  if (!m.source_node.empty()) w.key("SourceNode"), w.str(m.source_node);
  if (m.source_port != 0) w.key("SourcePort"), w.uint(m.source_port);
}

void encode(const IndirectPingReq& m, Bytes& out) {
  put_type(out, MessageType::indirect_ping);
  Writer w(out);
  w.map_header(5 + !m.source_addr.empty() + !m.source_node.empty() + (m.source_port != 0));
  w.key("Nack"), w.boolean(m.nack);
  w.key("Node"), w.str(m.node);
  w.key("Port"), w.uint(m.port);
  w.key("SeqNo"), w.uint(m.seq_no);
  if (!m.source_addr.empty()) w.key("SourceAddr"), w.raw(m.source_addr);
  if (!m.source_node.empty()) w.key("SourceNode"), w.str(m.source_node);
  if (m.source_port != 0) w.key("SourcePort"), w.uint(m.source_port);
  w.key("Target"), w.bytes_or_nil(m.target);
}

void encode(const AckResp& m, Bytes& out) {
  put_type(out, MessageType::ack_resp);
  Writer w(out);
  w.map_header(2);
  w.key("Payload"), w.bytes_or_nil(m.payload);
  w.key("SeqNo"), w.uint(m.seq_no);
}

void encode(const NackResp& m, Bytes& out) {
  put_type(out, MessageType::nack_resp);
  Writer w(out);
  w.map_header(1);
  w.key("SeqNo"), w.uint(m.seq_no);
}

void encode(const ErrResp& m, Bytes& out) {
  put_type(out, MessageType::err);
  Writer w(out);
  w.map_header(1);
  w.key("Error"), w.str(m.error);
}

namespace {
void encode_accusation(MessageType t, std::uint32_t incarnation, const std::string& node, const std::string& from,
                       Bytes& out) {
  put_type(out, t);
  Writer w(out);
  w.map_header(3);
  w.key("From"), w.str(from);
  w.key("Incarnation"), w.uint(incarnation);
  w.key("Node"), w.str(node);
}
}  // namespace

void encode(const Suspect& m, Bytes& out) {
  encode_accusation(MessageType::suspect, m.incarnation, m.node, m.from, out);
}
void encode(const Dead& m, Bytes& out) { encode_accusation(MessageType::dead, m.incarnation, m.node, m.from, out); }

void encode(const Alive& m, Bytes& out) {
  put_type(out, MessageType::alive);
  Writer w(out);
  w.map_header(6);
  w.key("Addr"), w.bytes_or_nil(m.addr);
  w.key("Incarnation"), w.uint(m.incarnation);
  w.key("Meta"), w.bytes_or_nil(m.meta);
  w.key("Node"), w.str(m.node);
  w.key("Port"), w.uint(m.port);
  w.key("Vsn"), w.raw(m.vsn.v);
}

void encode(const Compress& m, Bytes& out) {
  put_type(out, MessageType::compress);
  Writer w(out);
  w.map_header(2);
  w.key("Algo"), w.uint(m.algo);
  w.key("Buf"), w.raw(m.buf);
}

void encode(const UserPacket& m, Bytes& out) {
  put_type(out, MessageType::user);
  append(out, m.payload);
}

void encode(const PushPullHeader& m, Bytes& out, IntForm int_form) {
  Writer w(out, int_form);
  w.map_header(3);
  w.key("Join"), w.boolean(m.join);
  w.key("Nodes"), w.sint(m.nodes);
  w.key("UserStateLen"), w.sint(m.user_state_len);
}

void encode(const PushNodeState& m, Bytes& out, IntForm int_form) {
  Writer w(out, int_form);
  w.map_header(7);
  w.key("Addr"), w.bytes_or_nil(m.addr);
  w.key("Incarnation"), w.uint(m.incarnation);
  w.key("Meta"), w.bytes_or_nil(m.meta);
  w.key("Name"), w.str(m.name);
  w.key("Port"), w.uint(m.port);
  w.key("State"), w.sint(static_cast<std::int64_t>(m.state));
  w.key("Vsn"), w.raw(m.vsn.v);
}

void encode(const UserMsgHeader& m, Bytes& out, IntForm int_form) {
  Writer w(out, int_form);
  w.map_header(1);
  w.key("UserMsgLen"), w.sint(m.user_msg_len);
}

// ---- decoders ----

Status decode(Reader& r, Ping& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Node") return get(r, m.node);
    if (k == "SeqNo") return get(r, m.seq_no);
    if (k == "SourceAddr") return get(r, m.source_addr);
    if (k == "SourceNode") return get(r, m.source_node);
    if (k == "SourcePort") return get(r, m.source_port);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, IndirectPingReq& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Nack") return get(r, m.nack);
    if (k == "Node") return get(r, m.node);
    if (k == "Port") return get(r, m.port);
    if (k == "SeqNo") return get(r, m.seq_no);
    if (k == "SourceAddr") return get(r, m.source_addr);
    if (k == "SourceNode") return get(r, m.source_node);
    if (k == "SourcePort") return get(r, m.source_port);
    if (k == "Target") return get(r, m.target);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, AckResp& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Payload") return get(r, m.payload);
    if (k == "SeqNo") return get(r, m.seq_no);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, NackResp& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "SeqNo") return get(r, m.seq_no);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, ErrResp& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Error") return get(r, m.error);
    known = false;
    return ok_status();
  });
}

namespace {
template <class M>
Status decode_accusation(Reader& r, M& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "From") return get(r, m.from);
    if (k == "Incarnation") return get(r, m.incarnation);
    if (k == "Node") return get(r, m.node);
    known = false;
    return ok_status();
  });
}
}  // namespace

Status decode(Reader& r, Suspect& m) { return decode_accusation(r, m); }
Status decode(Reader& r, Dead& m) { return decode_accusation(r, m); }

Status decode(Reader& r, Alive& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Addr") return get(r, m.addr);
    if (k == "Incarnation") return get(r, m.incarnation);
    if (k == "Meta") return get(r, m.meta);
    if (k == "Node") return get(r, m.node);
    if (k == "Port") return get(r, m.port);
    if (k == "Vsn") return get(r, m.vsn);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, Compress& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Algo") return get(r, m.algo);
    if (k == "Buf") return get(r, m.buf);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, PushPullHeader& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Join") return get(r, m.join);
    if (k == "Nodes") return get(r, m.nodes);
    if (k == "UserStateLen") return get(r, m.user_state_len);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, PushNodeState& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "Addr") return get(r, m.addr);
    if (k == "Incarnation") return get(r, m.incarnation);
    if (k == "Meta") return get(r, m.meta);
    if (k == "Name") return get(r, m.name);
    if (k == "Port") return get(r, m.port);
    if (k == "State") return get(r, m.state);
    if (k == "Vsn") return get(r, m.vsn);
    known = false;
    return ok_status();
  });
}

Status decode(Reader& r, UserMsgHeader& m) {
  return read_struct(r, [&](std::string_view k, bool& known) -> Status {
    if (k == "UserMsgLen") return get(r, m.user_msg_len);
    known = false;
    return ok_status();
  });
}

// ---- the packet-level message variant ----

MessageType message_type(const Message& m) {
  struct {
    MessageType operator()(const Ping&) const { return MessageType::ping; }
    MessageType operator()(const IndirectPingReq&) const { return MessageType::indirect_ping; }
    MessageType operator()(const AckResp&) const { return MessageType::ack_resp; }
    MessageType operator()(const Suspect&) const { return MessageType::suspect; }
    MessageType operator()(const Alive&) const { return MessageType::alive; }
    MessageType operator()(const Dead&) const { return MessageType::dead; }
    MessageType operator()(const UserPacket&) const { return MessageType::user; }
    MessageType operator()(const NackResp&) const { return MessageType::nack_resp; }
  } visitor;
  return std::visit(visitor, m);
}

void encode(const Message& m, Bytes& out) {
  std::visit([&](const auto& v) { encode(v, out); }, m);
}

Result<Message> decode_message(ByteView msg) {
  if (msg.empty()) return fail(Reject::truncated, "empty message");
  const ByteView body = msg.subspan(1);
  auto as_message = [](auto r) -> Result<Message> {
    if (!r) return r.error();
    return Message(std::move(*r));
  };
  switch (static_cast<MessageType>(msg[0])) {
    case MessageType::ping: return as_message(decode_body<Ping>(body));
    case MessageType::indirect_ping: return as_message(decode_body<IndirectPingReq>(body));
    case MessageType::ack_resp: return as_message(decode_body<AckResp>(body));
    case MessageType::suspect: return as_message(decode_body<Suspect>(body));
    case MessageType::alive: return as_message(decode_body<Alive>(body));
    case MessageType::dead: return as_message(decode_body<Dead>(body));
    case MessageType::nack_resp: return as_message(decode_body<NackResp>(body));
    case MessageType::user: return Message(UserPacket{Bytes(body.begin(), body.end())});
    default:
      return fail(Reject::unknown_type, std::string("message type ") + std::to_string(msg[0]) + " (" +
                                            message_type_name(msg[0]) + ")");
  }
}

// ---- addresses ----

namespace {
constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

std::string format_ip(ByteView addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.size() == 4) {
    inet_ntop(AF_INET, addr.data(), buf, sizeof buf);
  } else if (addr.size() == 16 && std::memcmp(addr.data(), kV4MappedPrefix, 12) == 0) {
    inet_ntop(AF_INET, addr.data() + 12, buf, sizeof buf);
  } else if (addr.size() == 16) {
    inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  }
  return buf;
}

std::string format_host_port(ByteView addr, std::uint16_t port) {
  std::string ip = format_ip(addr);
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(port);
}

Result<Bytes> parse_ip(std::string_view text, AddrForm ipv4_form) {
  const std::string s(text);
  std::uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    if (ipv4_form == AddrForm::v4_4byte) return Bytes(buf, buf + 4);
    Bytes out(kV4MappedPrefix, kV4MappedPrefix + 12);
    out.insert(out.end(), buf, buf + 4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return Bytes(buf, buf + 16);
  return fail(Reject::invalid, "not an IP literal: " + s);
}

}  // namespace ringwatch::gossip
