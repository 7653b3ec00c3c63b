// The compress (type 9) wrapper: `09` + msgpack compress{Algo, Buf}.
#pragma once

#include <cstddef>

#include "gossip/bytes.h"
#include "gossip/messages.h"

namespace ringwatch::gossip {

enum class CompressionAlgo : std::uint8_t { lzw = 0, snappy = 1 };

// Default cap on decompressed size: upstream memberlist's 2 x maxPushStateBytes.
inline constexpr std::size_t kDefaultMaxDecompressed = 40u * 1024 * 1024;

// Decompresses Buf per Algo. Unknown Algo is Reject::decompress (Go drops it);
// output over max_output is Reject::oversize.
Result<Bytes> decompress(const Compress& c, std::size_t max_output);

// Decodes the compress body (after the 09 byte) from r and decompresses it.
Result<Bytes> read_compressed(msgpack::Reader& r, std::size_t max_output);

// Builds `09` + compress{algo, compressed(message)} as Go does.
Bytes compress_message(ByteView message, CompressionAlgo algo = CompressionAlgo::lzw);

}  // namespace ringwatch::gossip
