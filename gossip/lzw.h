// LZW exactly as Go's compress/lzw with order LSB and literal width 8, the
// algorithm memberlist uses for compress{Algo: 0} (memberlist-wire.md §3.4).
#pragma once

#include <cstddef>

#include "gossip/bytes.h"

namespace ringwatch::gossip {

// Byte-identical to Go's lzw.NewWriter(w, lzw.LSB, 8): leading clear code,
// 9..12-bit codes, a clear code when the table is full, EOF code, zero padding.
Bytes lzw_compress(ByteView input);

// Decodes like Go's reader: optional leading clear, clear anywhere, deferred
// clear when the table is full, must end with the EOF code (else
// Reject::decompress); output larger than max_output is Reject::oversize.
Result<Bytes> lzw_decompress(ByteView input, std::size_t max_output);

}  // namespace ringwatch::gossip
