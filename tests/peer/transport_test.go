package main

import (
	"bytes"
	"compress/lzw"
	"io"
	"log"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/hashicorp/memberlist"
)

func TestDropPacketsToMatching(t *testing.T) {
	f := &faults{}
	if err := f.setDropPacketsTo([]string{"127.0.0.1:7946", "[::ffff:10.0.0.2]:80", "[fe80::1]:9"}); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:7946":          true,
		"[::ffff:127.0.0.1]:7946": true, // IPv4-mapped form of the same address
		"10.0.0.2:80":             true,
		"[FE80::1]:9":             true,
		"127.0.0.1:7947":          false,
		"127.0.0.2:7946":          false,
		"localhost:7946":          false, // names are never resolved
		"garbage":                 false,
	} {
		if got := f.partitioned(addr); got != want {
			t.Errorf("partitioned(%q) = %v, want %v", addr, got, want)
		}
	}
	for _, bad := range []string{"127.0.0.1", "localhost:7946", "127.0.0.1:0", "127.0.0.1:70000"} {
		if err := (&faults{}).setDropPacketsTo([]string{bad}); err == nil {
			t.Errorf("setDropPacketsTo(%q) accepted", bad)
		}
	}
	if (&faults{}).partitioned("127.0.0.1:7946") {
		t.Error("no -drop-packets-to must drop nothing")
	}
}

// Through the real TCP transport: packets to the partitioned address vanish (and are
// counted), packets elsewhere and streams to it still go through.
func TestTCPTransportDropsPacketsToAddress(t *testing.T) {
	logger := log.New(io.Discard, "", 0)
	newT := func(f *faults) (*TCPTransport, *Stats) {
		s := &Stats{}
		tr, err := NewTCPTransport(TCPTransportConfig{BindAddr: "127.0.0.1"}, f, s, logger)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := tr.FinalAdvertiseAddr("127.0.0.1", 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Shutdown() })
		return tr, s
	}
	dst1, _ := newT(&faults{})
	dst2, _ := newT(&faults{})
	addr1 := "127.0.0.1:" + strconv.Itoa(dst1.BoundPort())
	addr2 := "127.0.0.1:" + strconv.Itoa(dst2.BoundPort())
	f := &faults{}
	if err := f.setDropPacketsTo([]string{addr1}); err != nil {
		t.Fatal(err)
	}
	src, stats := newT(f)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the stream must still arrive at the partitioned address
		defer wg.Done()
		select {
		case c := <-dst1.StreamCh():
			c.Close()
		case <-time.After(5 * time.Second):
			t.Error("stream to the partitioned address did not arrive")
		}
	}()
	for i := 0; i < 3; i++ {
		if _, err := src.WriteToAddress([]byte("dropped"), memberlist.Address{Addr: addr1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.WriteToAddress([]byte("delivered"), memberlist.Address{Addr: addr2}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-dst2.PacketCh():
		if string(p.Buf) != "delivered" {
			t.Fatalf("got %q", p.Buf)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("packet to the other address did not arrive")
	}
	c, err := src.DialAddressTimeout(memberlist.Address{Addr: addr1}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	wg.Wait()
	// Packets are sent synchronously without a send delay, so nothing is in flight now.
	select {
	case p := <-dst1.PacketCh():
		t.Fatalf("partitioned address received %q", p.Buf)
	default:
	}
	if stats.PacketsPartitioned != 3 || stats.PacketsSent != 1 {
		t.Fatalf("partitioned %d sent %d, want 3 and 1", stats.PacketsPartitioned, stats.PacketsSent)
	}
}

func TestMessageTypes(t *testing.T) {
	ping := []byte{msgPing, 0x81, 0xa1, 'x', 0x01}
	ind := []byte{msgIndirectPing, 0x80}
	compound := []byte{msgCompound, 3, 0, byte(len(ping)), 0, byte(len(ind)), 0, 2}
	compound = append(append(append(compound, ping...), ind...), 4, 0x80)
	var lz bytes.Buffer
	w := lzw.NewWriter(&lz, lzw.LSB, 8)
	w.Write(compound)
	w.Close()
	var compressed bytes.Buffer
	if err := codec.NewEncoder(&compressed, &codec.MsgpackHandle{}).Encode(map[string]interface{}{"Algo": 0, "Buf": lz.Bytes()}); err != nil {
		t.Fatal(err)
	}
	withCRC := append([]byte{msgHasCRC, 1, 2, 3, 4}, append([]byte{msgCompress}, compressed.Bytes()...)...)
	for name, c := range map[string]struct {
		in   []byte
		want []byte
	}{
		"single":            {ping, []byte{0}},
		"compound":          {compound, []byte{0, 1, 4}},
		"crc+compress":      {withCRC, []byte{0, 1, 4}},
		"truncated":         {compound[:3], nil},
		"empty":             {nil, nil},
		"unknown algorithm": {[]byte{msgCompress, 0x82, 0xa4, 'A', 'l', 'g', 'o', 1, 0xa3, 'B', 'u', 'f', 0xc4, 0}, nil},
	} {
		if got := messageTypes(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", name, got, c.want)
		}
	}
	s := &Stats{}
	countProbeMessages(s, compound, true)
	countProbeMessages(s, compound, false)
	if s.PingsPartitioned != 1 || s.IndirectPingsSent != 1 {
		t.Errorf("pings partitioned %d, indirect sent %d", s.PingsPartitioned, s.IndirectPingsSent)
	}
}

func TestProbeFailureCounter(t *testing.T) {
	s := &Stats{}
	var out bytes.Buffer
	l := log.New(probeFailureCounter{&out, s}, "", 0)
	l.Printf("[INFO] memberlist: Suspect %s has failed, no acks received", "peer-b")
	l.Printf("[DEBUG] memberlist: Failed ping: peer-b (timeout reached)")
	if s.ProbeFailures != 1 || !bytes.Contains(out.Bytes(), []byte("Failed ping")) {
		t.Errorf("failures %d, log %q", s.ProbeFailures, out.String())
	}
}
