package main

// dskit's TCPTransport wire format (spec dskit-kv-ring.md §1), plus the memberlist
// cluster-label header (§1.9) that memberlist 0.2.2 lacks, plus fault injection
// (send delay, drop rate, one-way packet partitions) for tests.

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sockaddr "github.com/hashicorp/go-sockaddr"
	"github.com/hashicorp/memberlist"
)

const (
	connPacket = 0x01
	connStream = 0x02
	labelTag   = 0xf4

	packetDialTimeout  = 2 * time.Second // dskit default since 2022-08
	packetWriteTimeout = 5 * time.Second
)

// faults is shared by both transports: delay before every sent packet, random drops,
// and every packet to the -drop-packets-to addresses dropped (streams are untouched).
type faults struct {
	delayNanos int64 // atomic
	dropRate   float64
	rngMu      sync.Mutex
	rng        *rand.Rand
	dropTo     map[string]bool // canonical "ip:port"; fixed after start
}

// canonicalAddr returns "ip:port" with the IP in its shortest form (IPv4-mapped IPv6
// as dotted IPv4), or an error if addr is not a literal ip:port.
func canonicalAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", fmt.Errorf("%q is not an IP address", host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("bad port %q", port)
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(p, 10)), nil
}

// setDropPacketsTo validates and installs the -drop-packets-to addresses.
func (f *faults) setDropPacketsTo(addrs []string) error {
	f.dropTo = map[string]bool{}
	for _, a := range addrs {
		c, err := canonicalAddr(a)
		if err != nil {
			return fmt.Errorf("-drop-packets-to %q: %v", a, err)
		}
		f.dropTo[c] = true
	}
	return nil
}

// partitioned reports whether packets to addr must be dropped.
func (f *faults) partitioned(addr string) bool {
	if len(f.dropTo) == 0 {
		return false
	}
	c, err := canonicalAddr(addr)
	return err == nil && f.dropTo[c]
}

func (f *faults) delay() time.Duration     { return time.Duration(atomic.LoadInt64(&f.delayNanos)) }
func (f *faults) setDelay(d time.Duration) { atomic.StoreInt64(&f.delayNanos, int64(d)) }
func (f *faults) drop() bool {
	if f.dropRate <= 0 {
		return false
	}
	f.rngMu.Lock()
	defer f.rngMu.Unlock()
	return f.rng.Float64() < f.dropRate
}

// sendWithFaults drops packets to a -drop-packets-to address (counted as partitioned)
// or by -drop-rate, else runs send now, or after the configured delay on its own
// goroutine so that memberlist's probe/gossip loops are not blocked (the delay models
// link latency). Either way memberlist is told the send succeeded.
func sendWithFaults(f *faults, stats *Stats, b []byte, addr string, send func([]byte)) {
	partitioned := f.partitioned(addr)
	countProbeMessages(stats, b, partitioned)
	if partitioned {
		stats.add(&stats.PacketsPartitioned, 1)
		return
	}
	if f.drop() {
		stats.add(&stats.PacketsDropped, 1)
		return
	}
	d := f.delay()
	if d <= 0 {
		send(b)
		return
	}
	cp := append([]byte(nil), b...)
	go func() {
		time.Sleep(d)
		send(cp)
	}()
}

type TCPTransportConfig struct {
	BindAddr       string
	BindPort       int
	Label          string
	SkipLabelCheck bool
	TLSServer      *tls.Config // nil = plain TCP
	TLSClient      *tls.Config
}

type TCPTransport struct {
	cfg      TCPTransportConfig
	faults   *faults
	stats    *Stats
	logger   *log.Logger
	listener net.Listener
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	done     chan struct{}
	wg       sync.WaitGroup

	advMu     sync.Mutex
	advertise string // "ip:port" written into every packet header
}

var _ memberlist.NodeAwareTransport = (*TCPTransport)(nil)

func NewTCPTransport(cfg TCPTransportConfig, f *faults, stats *Stats, logger *log.Logger) (*TCPTransport, error) {
	if len(cfg.Label) > 255 {
		return nil, errors.New("cluster label longer than 255 bytes")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)))
	if err != nil {
		return nil, err
	}
	t := &TCPTransport{cfg: cfg, faults: f, stats: stats, logger: logger, listener: ln,
		packetCh: make(chan *memberlist.Packet, 1024), streamCh: make(chan net.Conn), done: make(chan struct{})}
	t.wg.Add(1)
	go t.acceptLoop()
	return t, nil
}

func (t *TCPTransport) BoundPort() int { return t.listener.Addr().(*net.TCPAddr).Port }

func (t *TCPTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	var advIP net.IP
	if ip != "" {
		if advIP = net.ParseIP(ip); advIP == nil {
			return nil, 0, fmt.Errorf("failed to parse advertise address %q", ip)
		}
		if port == 0 {
			port = t.BoundPort()
		}
	} else {
		bound := t.listener.Addr().(*net.TCPAddr).IP
		if bound.IsUnspecified() {
			priv, err := sockaddr.GetPrivateIP()
			if err != nil || priv == "" {
				return nil, 0, fmt.Errorf("no private IP address found, and explicit IP not provided: %v", err)
			}
			advIP = net.ParseIP(priv)
		} else {
			advIP = bound
		}
		port = t.BoundPort()
	}
	t.advMu.Lock()
	t.advertise = net.JoinHostPort(advIP.String(), strconv.Itoa(port))
	t.advMu.Unlock()
	return advIP, port, nil
}

func (t *TCPTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }
func (t *TCPTransport) StreamCh() <-chan net.Conn           { return t.streamCh }

func (t *TCPTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *TCPTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *TCPTransport) labelHeader() []byte {
	if t.cfg.Label == "" {
		return nil
	}
	return append([]byte{labelTag, byte(len(t.cfg.Label))}, t.cfg.Label...)
}

func (t *TCPTransport) dial(addr string, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if t.cfg.TLSClient != nil {
		return tls.DialWithDialer(d, "tcp", addr, t.cfg.TLSClient)
	}
	return d.Dial("tcp", addr)
}

// WriteToAddress sends one packet on its own connection. Failures are counted and
// logged but never reported to memberlist (as dskit does).
func (t *TCPTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	sendWithFaults(t.faults, t.stats, b, a.Addr, func(p []byte) { t.sendPacket(p, a.Addr) })
	return now, nil
}

func (t *TCPTransport) sendPacket(b []byte, addr string) {
	t.advMu.Lock()
	adv := t.advertise
	t.advMu.Unlock()
	if len(adv) > 255 {
		t.stats.add(&t.stats.PacketsSentErrors, 1)
		return
	}
	payload := append(t.labelHeader(), b...) // label is inside the MD5
	sum := md5.Sum(payload)
	frame := make([]byte, 0, 2+len(adv)+len(payload)+md5.Size)
	frame = append(frame, connPacket, byte(len(adv)))
	frame = append(frame, adv...)
	frame = append(frame, payload...)
	frame = append(frame, sum[:]...)

	c, err := t.dial(addr, packetDialTimeout)
	if err != nil {
		t.stats.add(&t.stats.PacketsSentErrors, 1)
		t.logger.Printf("[DEBUG] ringwatch-peer: packet to %s: %v", addr, err)
		return
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(packetWriteTimeout))
	if _, err := c.Write(frame); err != nil {
		t.stats.add(&t.stats.PacketsSentErrors, 1)
		t.logger.Printf("[WARN] ringwatch-peer: writing packet to %s: %v", addr, err)
		return
	}
	t.stats.add(&t.stats.PacketsSent, 1)
	t.stats.add(&t.stats.BytesSent, uint64(len(frame)))
}

// DialAddressTimeout opens a stream: 02, then the label header, then memberlist's bytes.
func (t *TCPTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.dial(a.Addr, timeout)
	if err != nil {
		t.stats.add(&t.stats.StreamsSentErrors, 1)
		return nil, err
	}
	hdr := append([]byte{connStream}, t.labelHeader()...)
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write(hdr); err != nil {
		c.Close()
		t.stats.add(&t.stats.StreamsSentErrors, 1)
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	t.stats.add(&t.stats.StreamsSent, 1)
	return c, nil
}

func (t *TCPTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	return errors.New("IngestPacket is not supported by the TCP transport")
}
func (t *TCPTransport) IngestStream(conn net.Conn) error {
	return errors.New("IngestStream is not supported by the TCP transport")
}

func (t *TCPTransport) Shutdown() error {
	select {
	case <-t.done:
		return nil
	default:
	}
	close(t.done)
	err := t.listener.Close()
	t.wg.Wait()
	return err
}

func (t *TCPTransport) acceptLoop() {
	defer t.wg.Done()
	for {
		c, err := t.listener.Accept()
		if err != nil {
			select {
			case <-t.done:
				return
			default:
			}
			t.logger.Printf("[ERR] ringwatch-peer: accept: %v", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go t.handleConn(c)
	}
}

// checkLabel parses an optional label header at the front of r. It returns false when
// the connection/packet must be discarded.
func (t *TCPTransport) checkLabel(label []byte, present bool) bool {
	if present && len(label) == 0 {
		return false // LL = 0 is invalid
	}
	if t.cfg.SkipLabelCheck || string(label) == t.cfg.Label {
		return true
	}
	t.stats.add(&t.stats.LabelRejections, 1)
	return false
}

func (t *TCPTransport) handleConn(c net.Conn) {
	if t.cfg.TLSServer != nil {
		tc := tls.Server(c, t.cfg.TLSServer)
		if err := tc.Handshake(); err != nil {
			t.stats.add(&t.stats.TLSHandshakeErrors, 1)
			t.logger.Printf("[DEBUG] ringwatch-peer: TLS handshake from %s: %v", c.RemoteAddr(), err)
			c.Close()
			return
		}
		c = tc
	}
	r := bufio.NewReader(c)
	typ, err := r.ReadByte()
	if err != nil {
		c.Close() // probe connections and shutdown races close with 0 bytes
		return
	}
	switch typ {
	case connPacket:
		defer c.Close()
		t.readPacket(r, c.RemoteAddr())
	case connStream:
		// Strip the optional label before memberlist sees the stream.
		var label []byte
		present := false
		if b, err := r.Peek(1); err == nil && b[0] == labelTag {
			hdr := make([]byte, 2)
			if _, err := io.ReadFull(r, hdr); err != nil {
				c.Close()
				return
			}
			label = make([]byte, hdr[1])
			if _, err := io.ReadFull(r, label); err != nil {
				c.Close()
				return
			}
			present = true
		}
		if !t.checkLabel(label, present) {
			t.logger.Printf("[WARN] ringwatch-peer: discarding stream with unacceptable label %q from %s", label, c.RemoteAddr())
			c.Close()
			return
		}
		t.stats.add(&t.stats.StreamsReceived, 1)
		select {
		case t.streamCh <- &bufConn{Conn: c, r: r}:
		case <-t.done:
			c.Close()
		}
	default:
		t.stats.add(&t.stats.UnknownConnections, 1)
		t.logger.Printf("[WARN] ringwatch-peer: unknown connection type %#x from %s", typ, c.RemoteAddr())
		c.Close()
	}
}

func (t *TCPTransport) readPacket(r *bufio.Reader, remote net.Addr) {
	l, err := r.ReadByte()
	if err != nil {
		t.stats.add(&t.stats.PacketsReceivedErrors, 1)
		return
	}
	addrBuf := make([]byte, l)
	if _, err := io.ReadFull(r, addrBuf); err != nil {
		t.stats.add(&t.stats.PacketsReceivedErrors, 1)
		return
	}
	data, err := io.ReadAll(r) // no length field: EOF ends the packet
	if err != nil || len(data) < md5.Size {
		t.stats.add(&t.stats.PacketsReceivedErrors, 1)
		return
	}
	now := time.Now()
	payload, digest := data[:len(data)-md5.Size], data[len(data)-md5.Size:]
	if sum := md5.Sum(payload); !bytes.Equal(sum[:], digest) {
		// dskit logs and counts a bad digest but still delivers the packet.
		t.stats.add(&t.stats.PacketsReceivedErrors, 1)
		t.logger.Printf("[WARN] ringwatch-peer: packet digest mismatch from %s", addrBuf)
	}
	var label []byte
	present := false
	if len(payload) > 0 && payload[0] == labelTag {
		if len(payload) < 2 || len(payload) < 2+int(payload[1]) {
			t.stats.add(&t.stats.PacketsReceivedErrors, 1)
			return
		}
		label, payload, present = payload[2:2+int(payload[1])], payload[2+int(payload[1]):], true
	}
	if !t.checkLabel(label, present) {
		t.logger.Printf("[WARN] ringwatch-peer: discarding packet with unacceptable label %q from %s", label, addrBuf)
		return
	}
	t.stats.add(&t.stats.PacketsReceived, 1)
	t.stats.add(&t.stats.BytesReceived, uint64(len(data)+2+len(addrBuf)))
	var from net.Addr = advAddr(addrBuf)
	if ta, err := net.ResolveTCPAddr("tcp", string(addrBuf)); err == nil {
		from = ta
	}
	select {
	case t.packetCh <- &memberlist.Packet{Buf: payload, From: from, Timestamp: now}:
	case <-t.done:
	}
}

// advAddr is a fallback net.Addr for an unparsable advertised address.
type advAddr string

func (a advAddr) Network() string { return "tcp" }
func (a advAddr) String() string  { return string(a) }

// bufConn hands memberlist a connection whose first bytes were already buffered.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// faultyNetTransport is memberlist's standard UDP/TCP NetTransport with the same
// fault injection on sent packets.
type faultyNetTransport struct {
	*memberlist.NetTransport
	faults   *faults
	stats    *Stats
	packetCh chan *memberlist.Packet
}

func (t *faultyNetTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *faultyNetTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	sendWithFaults(t.faults, t.stats, b, a.Addr, func(p []byte) {
		if _, err := t.NetTransport.WriteToAddress(p, a); err != nil {
			t.stats.add(&t.stats.PacketsSentErrors, 1)
			return
		}
		t.stats.add(&t.stats.PacketsSent, 1)
		t.stats.add(&t.stats.BytesSent, uint64(len(p)))
	})
	return now, nil
}

func newFaultyNetTransport(nt *memberlist.NetTransport, f *faults, stats *Stats) *faultyNetTransport {
	t := &faultyNetTransport{NetTransport: nt, faults: f, stats: stats, packetCh: make(chan *memberlist.Packet, 1024)}
	go func() { // count received packets on their way to memberlist
		for pkt := range nt.PacketCh() {
			stats.add(&stats.PacketsReceived, 1)
			stats.add(&stats.BytesReceived, uint64(len(pkt.Buf)))
			t.packetCh <- pkt
		}
	}()
	return t
}

func (t *faultyNetTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }
