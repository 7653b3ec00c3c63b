package main

// Probe accounting for tests that need to tell "memberlist asked no helper" from "the
// helper did not answer": the transport looks into every sent packet for ping and
// indirect-ping messages, and the memberlist logger counts failed probes.

import (
	"bytes"
	"compress/lzw"
	"encoding/binary"
	"io"
	"io/ioutil"

	"github.com/hashicorp/go-msgpack/codec"
)

// memberlist message types (memberlist-wire.md §1.1).
const (
	msgPing         = 0
	msgIndirectPing = 1
	msgCompound     = 7
	msgCompress     = 9
	msgHasCRC       = 12
)

// messageTypes returns the type of every message in a memberlist packet payload as
// handed to the transport: optional CRC, then optional LZW compression, then one
// message or a compound of them. nil when the packet cannot be parsed (e.g. encrypted).
func messageTypes(b []byte) []byte {
	if len(b) >= 5 && b[0] == msgHasCRC {
		b = b[5:]
	}
	if len(b) > 0 && b[0] == msgCompress {
		var c struct {
			Algo int
			Buf  []byte
		}
		if err := codec.NewDecoder(bytes.NewReader(b[1:]), &codec.MsgpackHandle{}).Decode(&c); err != nil || c.Algo != 0 {
			return nil
		}
		r := lzw.NewReader(bytes.NewReader(c.Buf), lzw.LSB, 8)
		defer r.Close()
		plain, err := ioutil.ReadAll(r)
		if err != nil {
			return nil
		}
		b = plain
	}
	if len(b) == 0 {
		return nil
	}
	if b[0] != msgCompound {
		return []byte{b[0]}
	}
	if len(b) < 2 || len(b) < 2+2*int(b[1]) {
		return nil
	}
	n := int(b[1])
	body := b[2+2*n:]
	var types []byte
	for i := 0; i < n; i++ {
		l := int(binary.BigEndian.Uint16(b[2+2*i:]))
		if l == 0 || l > len(body) {
			return types
		}
		types = append(types, body[0])
		body = body[l:]
	}
	return types
}

// countProbeMessages counts the pings dropped by -drop-packets-to and the indirect
// ping requests actually sent.
func countProbeMessages(stats *Stats, b []byte, partitioned bool) {
	for _, t := range messageTypes(b) {
		switch {
		case t == msgPing && partitioned:
			stats.add(&stats.PingsPartitioned, 1)
		case t == msgIndirectPing && !partitioned:
			stats.add(&stats.IndirectPingsSent, 1)
		}
	}
}

// probeFailureCounter passes memberlist's log lines through and counts failed probes
// ("Suspect <node> has failed, no acks received", logged once per failed probe round).
type probeFailureCounter struct {
	w     io.Writer
	stats *Stats
}

var probeFailureLine = []byte("has failed, no acks received")

func (c probeFailureCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, probeFailureLine) {
		c.stats.add(&c.stats.ProbeFailures, 1)
	}
	return c.w.Write(p)
}
