// gossip/messages.h: every msgpack message. The whole input goes to decode_message (type byte
// first); the body after the first byte also goes to decode_body<T> for the type that byte
// names modulo 14 (the memberlist type numbers, free slots reused), which covers the stream-only bodies (push/pull header and node state, user
// message header, compress, errResp). Decoded messages re-encode to something that decodes
// to the same value.
#include "fuzz/common.h"
#include "gossip/messages.h"

namespace {
using namespace ringwatch;
using namespace ringwatch::gossip;

template <class T>
void body(ByteView b) {
  auto m = decode_body<T>(b);
  if (!m.ok()) {
    const Reject r = m.error().reason;
    FUZZ_CHECK(r == Reject::truncated || r == Reject::decode || r == Reject::invalid || r == Reject::oversize);
    return;
  }
  Bytes again;
  if constexpr (std::is_same_v<T, PushPullHeader> || std::is_same_v<T, PushNodeState> ||
                std::is_same_v<T, UserMsgHeader>) {
    encode(*m, again);
  } else {
    encode(*m, again);
    again.erase(again.begin());  // the type byte
  }
  auto round = decode_body<T>(again);
  FUZZ_CHECK(round.ok() && *round == *m);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in = fuzz::view(data, size);
  auto m = decode_message(in);
  if (m.ok()) {
    Bytes again;
    encode(*m, again);
    auto round = decode_message(again);
    FUZZ_CHECK(round.ok() && *round == *m);
  }
  if (size < 1) return 0;
  const ByteView b = in.subspan(1);
  switch (data[0] % 14) {
    case 0: body<Ping>(b); break;
    case 1: body<IndirectPingReq>(b); break;
    case 2: body<AckResp>(b); break;
    case 3: body<Suspect>(b); break;
    case 4: body<Alive>(b); break;
    case 5: body<Dead>(b); break;
    case 6: body<PushPullHeader>(b); break;  // a push/pull stream message starts with it
    case 7: body<PushNodeState>(b); break;   // (compound: no body of its own)
    case 8: body<UserMsgHeader>(b); break;   // a user stream message starts with it
    case 9: body<Compress>(b); break;
    case 10: body<PushNodeState>(b); break;  // (encrypt: not msgpack)
    case 11: body<NackResp>(b); break;
    case 12: body<Ping>(b); break;           // (hasCrc: not msgpack)
    case 13: body<ErrResp>(b); break;
  }
  return 0;
}
