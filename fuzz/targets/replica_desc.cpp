// ring/codec.h decode_replica_desc (codec replicaDesc, Mimir's HA tracker).
#include "fuzz/codec_common.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  fuzz::check_codec(fuzz::chars(data, size), ring::decode_replica_desc_proto, ring::decode_replica_desc);
  return 0;
}
