// ring/codec.h decode_key_value_pair: the protobuf KeyValuePair of every dskit gossip message.
#include "fuzz/codec_common.h"
#include "proto/kv.pb.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  auto kv = ring::decode_key_value_pair(fuzz::chars(data, size));
  if (!kv.ok()) return 0;
  ::memberlist::KeyValuePair pb;
  if (!pb.ParseFromArray(data, static_cast<int>(size))) return 0;
  FUZZ_CHECK(kv->key == pb.key() && kv->value == pb.value() && kv->codec == pb.codec());
  FUZZ_CHECK(kv->deleted == pb.deleted() && kv->update_time_millis == pb.update_time_millis());
  return 0;
}
