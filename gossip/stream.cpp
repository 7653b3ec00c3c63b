#include "gossip/stream.h"

#include "gossip/packet.h"

#include <algorithm>

namespace ringwatch::gossip {

namespace {

constexpr std::size_t kEncryptHeader = 5;

Status check_length(std::int64_t len, std::size_t max, const char* what, SizeLimit limit = SizeLimit::none) {
  if (len < 0) return fail(Reject::invalid, std::string(what) + " is negative");
  if (static_cast<std::uint64_t>(len) > max) return over_limit(limit, std::string(what) + " exceeds limit");
  return ok_status();
}

Result<StreamMessage> read_push_pull(msgpack::Reader& r, const StreamLimits& limits) {
  PushPullHeader h;
  if (auto s = decode(r, h); !s) return s.error();
  if (auto s = check_length(h.nodes, limits.max_nodes, "push/pull Nodes"); !s) return s.error();
  if (auto s = check_length(h.user_state_len, limits.max_push_state_bytes, "push/pull UserStateLen", SizeLimit::message); !s) {
    return s.error();
  }
  // Every node state takes at least one byte: a count beyond the input cannot be complete.
  if (static_cast<std::uint64_t>(h.nodes) > r.remaining()) return fail(Reject::truncated, "push/pull: node states");
  PushPull pp;
  pp.join = h.join;
  for (std::int64_t i = 0; i < h.nodes; ++i) {
    PushNodeState n;
    if (auto s = decode(r, n); !s) return s.error();
    pp.nodes.push_back(std::move(n));
  }
  auto user = r.take(static_cast<std::size_t>(h.user_state_len));
  if (!user) return user.error();
  pp.user_state.assign(user->begin(), user->end());
  return StreamMessage(std::move(pp));
}

Result<StreamMessage> read_user(msgpack::Reader& r, const StreamLimits& limits) {
  UserMsgHeader h;
  if (auto s = decode(r, h); !s) return s.error();
  if (auto s = check_length(h.user_msg_len, limits.max_push_state_bytes, "UserMsgLen", SizeLimit::message); !s) return s.error();
  auto payload = r.take(static_cast<std::size_t>(h.user_msg_len));
  if (!payload) return payload.error();
  return StreamMessage(StreamUser{Bytes(payload->begin(), payload->end())});
}

template <class M>
Result<StreamMessage> read_plain(msgpack::Reader& r) {
  M m;
  if (auto s = decode(r, m); !s) return s.error();
  return StreamMessage(std::move(m));
}

// One unwrapped message [type][body...] read from r.
Result<StreamMessage> read_message(std::uint8_t type, msgpack::Reader& r, const StreamLimits& limits) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::push_pull: return read_push_pull(r, limits);
    case MessageType::user: return read_user(r, limits);
    case MessageType::ping: return read_plain<Ping>(r);
    case MessageType::ack_resp: return read_plain<AckResp>(r);
    case MessageType::err: return read_plain<ErrResp>(r);
    default:
      return fail(Reject::unknown_type, std::string("stream message type ") + std::to_string(type) + " (" +
                                            message_type_name(type) + ")");
  }
}

// A message from a buffer that is already complete (decrypted or decompressed):
// a compress wrapper may still be inside an encrypted one.
Result<StreamMessage> read_complete(ByteView buf, bool allow_compress, const StreamDecodeOptions& opts,
                                    StreamLayers& layers) {
  if (buf.empty()) return fail(Reject::truncated, "empty stream message");
  msgpack::Reader r(buf.subspan(1));
  if (buf[0] == static_cast<std::uint8_t>(MessageType::compress) && allow_compress) {
    auto plain = read_compressed(r, opts.limits.max_decompressed);
    if (!plain) return plain.error();
    layers.compressed = true;
    return read_complete(*plain, false, opts, layers);
  }
  return read_message(buf[0], r, opts.limits);
}

// A truncation that knows how many bytes it lacks (a push/pull's user state, a compressed or
// user payload) lets the reader wait for all of them instead of parsing again at every read.
Result<StreamStep> need_more_or(Error e) {
  if (e.reason == Reject::truncated) return StreamStep(NeedMore{std::max<std::size_t>(e.missing, 1)});
  return e;
}

}  // namespace

Result<StreamStep> parse_stream_message(ByteView buf, const StreamDecodeOptions& opts) {
  StreamDecoded out;
  std::size_t pos = 0;
  if (opts.expect_label) {
    // Whether a label header is present is known only from the first byte.
    if (buf.empty()) return StreamStep(NeedMore{1});
    auto split = split_label(buf);
    if (!split) return need_more_or(split.error());
    if (auto s = check_label(split->label, opts.label, opts.skip_label_check); !s) return s.error();
    out.layers.label = split->label;
    pos = buf.size() - split->rest.size();
  }
  const ByteView rest = buf.subspan(pos);
  if (rest.empty()) return StreamStep(NeedMore{1});
  const std::string_view aad_label = out.layers.label ? std::string_view(*out.layers.label) : opts.label;

  if (rest[0] == static_cast<std::uint8_t>(MessageType::encrypt)) {
    if (!opts.keyring) return fail(Reject::decrypt, "encrypted stream but no keyring");
    if (rest.size() < kEncryptHeader) return StreamStep(NeedMore{kEncryptHeader - rest.size()});
    const std::uint32_t len = load_be32(rest.data() + 1);
    if (len > kMaxEncryptedFrame) return fail(Reject::oversize, "encrypt frame longer than 20 MiB");
    if (rest.size() - kEncryptHeader < len) return StreamStep(NeedMore{kEncryptHeader + len - rest.size()});
    auto frame = decrypt_stream_frame(*opts.keyring, rest, aad_label);
    if (!frame) return frame.error();
    out.layers.encrypted = true;
    auto msg = read_complete(frame->plaintext, true, opts, out.layers);
    if (!msg) return msg.error();
    out.message = std::move(*msg);
    out.consumed = pos + frame->consumed;
    return StreamStep(std::move(out));
  }
  if (opts.keyring && opts.require_encryption) {
    return fail(Reject::decrypt, "encryption is configured but the stream is not encrypted");
  }

  msgpack::Reader r(rest.subspan(1));
  if (rest[0] == static_cast<std::uint8_t>(MessageType::compress)) {
    auto plain = read_compressed(r, opts.limits.max_decompressed);
    if (!plain) return need_more_or(plain.error());
    out.layers.compressed = true;
    auto msg = read_complete(*plain, false, opts, out.layers);
    if (!msg) return msg.error();
    out.message = std::move(*msg);
  } else {
    auto msg = read_message(rest[0], r, opts.limits);
    if (!msg) return need_more_or(msg.error());
    out.message = std::move(*msg);
  }
  out.consumed = pos + 1 + r.offset();
  return StreamStep(std::move(out));
}

Bytes encode_push_pull(const PushPull& pp, msgpack::IntForm int_form) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(MessageType::push_pull));
  encode(PushPullHeader{static_cast<std::int64_t>(pp.nodes.size()), static_cast<std::int64_t>(pp.user_state.size()),
                        pp.join},
         out, int_form);
  for (const PushNodeState& n : pp.nodes) encode(n, out, int_form);
  append(out, pp.user_state);
  return out;
}

Bytes encode_stream_user(ByteView payload, msgpack::IntForm int_form) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(MessageType::user));
  encode(UserMsgHeader{static_cast<std::int64_t>(payload.size())}, out, int_form);
  append(out, payload);
  return out;
}

Result<Bytes> encode_stream_message(ByteView message, const StreamEncodeOptions& opts) {
  Bytes msg(message.begin(), message.end());
  if (opts.compress) msg = compress_message(msg);
  if (opts.keyring) {
    auto frame = encrypt_stream_frame(opts.encryption_version, opts.keyring->primary(), opts.nonce, msg, opts.label);
    if (!frame) return frame.error();
    msg = std::move(*frame);
  }
  Bytes out;
  if (opts.write_label) {
    if (auto s = add_label(opts.label, out); !s) return s.error();
  }
  append(out, msg);
  return out;
}

}  // namespace ringwatch::gossip
