// The net workloads of benches/benches/shared/net.rs in Go, with the same protocol and the
// same checks.
//
//	goro-bench-go --hold-connections ADDR
//
// is the idle_conns helper, as in the Rust binaries: for each line N on its standard input
// it connects N more sockets to ADDR, one after another, and prints `holding TOTAL`; it holds
// them all until its standard input closes.
//
// Go sets TCP_NODELAY on every TCP connection by default, so, unlike the Rust side, nothing
// here sets it.

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The constants of benches/src/plan.rs and benches/benches/shared/net.rs.
const (
	echoMessage      = 64                     // ECHO_MESSAGE
	streamChunk      = 64 * 1024              // STREAM_CHUNK
	churnClients     = 50                     // CHURN_CLIENTS
	idleRead         = 64                     // IDLE_READ
	idleSettle       = 200 * time.Millisecond // IDLE_SETTLE
	idleAcceptLimit  = 60 * time.Second       // IDLE_ACCEPT_LIMIT
	idlePoll         = time.Millisecond       // IDLE_POLL
	holdBatch        = 100                    // HOLD_BATCH
	holdConnectLimit = 10 * time.Second       // HOLD_CONNECT_LIMIT
	loopback         = "127.0.0.1:0"
	gib              = float64(1 << 30)
)

func listen(what string) net.Listener {
	ln, err := net.Listen("tcp", loopback)
	must(err, what+": listen")
	return ln
}

func accept(ln net.Listener, what string) net.Conn {
	conn, err := ln.Accept()
	must(err, what+": accept")
	return conn
}

func dial(addr, what string) net.Conn {
	conn, err := net.Dial("tcp", addr)
	must(err, what+": connect to "+addr)
	return conn
}

// tcpEcho: clients connections × roundTrips echoes of echoMessage bytes; thousands of round
// trips per second, from the first connect to the last client done.
func tcpEcho(clients, roundTrips int) float64 {
	ln := listen("tcp_echo")
	addr := ln.Addr().String()
	var echoed, done int64
	var served, finished sync.WaitGroup
	served.Add(clients)
	go func() {
		for i := 0; i < clients; i++ {
			conn := accept(ln, "tcp_echo")
			go func() {
				defer served.Done()
				atomic.AddInt64(&echoed, echo(conn))
			}()
		}
		ln.Close()
	}()
	finished.Add(clients)
	start := time.Now()
	for id := 0; id < clients; id++ {
		go func(id int) {
			defer finished.Done()
			echoClient(addr, id, roundTrips)
			atomic.AddInt64(&done, int64(roundTrips))
		}(id)
	}
	finished.Wait()
	elapsed := time.Since(start)
	// Every server goroutine has seen its client's EOF, so its byte count is final.
	served.Wait()
	total := clients * roundTrips
	check(done == int64(total), "tcp_echo: %d of %d round trips", done, total)
	check(echoed == int64(total*echoMessage), "tcp_echo: the server echoed %d bytes", echoed)
	return float64(total) / elapsed.Seconds() / 1000
}

// echo reads up to echoMessage bytes and writes them back, until EOF; the bytes echoed.
func echo(conn net.Conn) int64 {
	defer conn.Close()
	buf := make([]byte, echoMessage)
	var echoed int64
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			_, werr := conn.Write(buf[:n])
			must(werr, "tcp_echo: server write")
			echoed += int64(n)
		}
		if err == io.EOF {
			return echoed
		}
		must(err, "tcp_echo: server read")
	}
}

// echoClient connects and makes roundTrips round trips, checking each.
func echoClient(addr string, id, roundTrips int) {
	conn := dial(addr, "tcp_echo")
	defer conn.Close()
	message, reply := make([]byte, echoMessage), make([]byte, echoMessage)
	for i := 0; i < roundTrips; i++ {
		fillMessage(message, id, i)
		_, err := conn.Write(message)
		must(err, fmt.Sprintf("tcp_echo: client %d write", id))
		_, err = io.ReadFull(conn, reply)
		must(err, fmt.Sprintf("tcp_echo: client %d read", id))
		check(bytes.Equal(reply, message), "tcp_echo: client %d got a wrong echo at round trip %d", id, i)
	}
}

// fillMessage writes message i of client id: both numbers (little-endian u32), then bytes
// that depend on both and on the position.
func fillMessage(message []byte, id, i int) {
	binary.LittleEndian.PutUint32(message[0:4], uint32(id))
	binary.LittleEndian.PutUint32(message[4:8], uint32(i))
	for k := 8; k < len(message); k++ {
		message[k] = byte(k + id + i)
	}
}

// tcpStream: chunks writes of streamChunk bytes over one connection; GiB/s from connect to
// the reader's EOF.
func tcpStream(chunks int) float64 {
	ln := listen("tcp_stream")
	addr := ln.Addr().String()
	start := time.Now()
	received := make(chan int64)
	go func() {
		conn := accept(ln, "tcp_stream")
		ln.Close()
		received <- readStream(conn)
	}()
	go writeStream(addr, chunks)
	got := <-received
	elapsed := time.Since(start)
	expected := int64(chunks) * streamChunk
	check(got == expected, "tcp_stream: read %d bytes of %d", got, expected)
	return float64(got) / gib / elapsed.Seconds()
}

// writeStream writes chunks chunks, then shuts down the write side. Byte k of the stream is
// byte(k).
func writeStream(addr string, chunks int) {
	conn := dial(addr, "tcp_stream")
	defer conn.Close()
	chunk := make([]byte, streamChunk)
	for k := range chunk {
		chunk[k] = byte(k)
	}
	for i := 0; i < chunks; i++ {
		_, err := conn.Write(chunk)
		must(err, fmt.Sprintf("tcp_stream: write of chunk %d", i))
	}
	must(conn.(*net.TCPConn).CloseWrite(), "tcp_stream: shutdown")
}

// readStream reads until EOF, checking the first and last byte of every read; the bytes
// read.
func readStream(conn net.Conn) int64 {
	defer conn.Close()
	buf := make([]byte, streamChunk)
	var offset int64
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			last := offset + int64(n) - 1
			check(buf[0] == byte(offset) && buf[n-1] == byte(last),
				"tcp_stream: bytes %d..=%d are not the ones written", offset, last)
			offset += int64(n)
		}
		if err == io.EOF {
			return offset
		}
		must(err, fmt.Sprintf("tcp_stream: read at byte %d", offset))
	}
}

// tcpChurn: conns connections from churnClients clients, each accepted and closed at once;
// thousands of connections per second, counted at the server.
func tcpChurn(conns int) float64 {
	check(conns%churnClients == 0, "tcp_churn: %d connections do not split among %d clients", conns, churnClients)
	ln := listen("tcp_churn")
	addr := ln.Addr().String()
	start := time.Now()
	accepted := make(chan int)
	go func() {
		for i := 0; i < conns; i++ {
			accept(ln, "tcp_churn").Close()
		}
		ln.Close()
		accepted <- conns
	}()
	var eofs int64
	var finished sync.WaitGroup
	finished.Add(churnClients)
	for c := 0; c < churnClients; c++ {
		go func() {
			defer finished.Done()
			churnClient(addr, conns/churnClients, &eofs)
		}()
	}
	got := <-accepted
	finished.Wait()
	elapsed := time.Since(start)
	check(got == conns, "tcp_churn: the server accepted %d", got)
	check(eofs == int64(conns), "tcp_churn: clients saw %d EOFs of %d", eofs, conns)
	return float64(got) / elapsed.Seconds() / 1000
}

// churnClient n times connects, reads until EOF (the server closes first) and closes.
func churnClient(addr string, n int, eofs *int64) {
	b := make([]byte, 1)
	for i := 0; i < n; i++ {
		conn := dial(addr, "tcp_churn")
		got, err := conn.Read(b)
		check(got == 0 && err == io.EOF, "tcp_churn: client read %d bytes, error %v, instead of EOF", got, err)
		atomic.AddInt64(eofs, 1)
		conn.Close()
	}
}

// idle is what idleConns measures.
type idle struct {
	bytesPerConn float64 // growth of VmRSS since before the listen, per connection
	threads      int     // OS threads of the process
}

// idleConns: n idle connections from a helper process, each accepted into its own goroutine
// blocked in Read; RSS growth per connection and the process's threads, idleSettle after the
// last goroutine started. Then the helper exits and every Read must end in EOF.
func idleConns(n int) idle {
	base := procStatus("VmRSS") * 1024
	ln := listen("idle_conns")
	var parked, eofs int64
	var ended sync.WaitGroup
	ended.Add(n)
	go func() {
		for i := 0; i < n; i++ {
			conn := accept(ln, "idle_conns")
			go func() {
				defer ended.Done()
				atomic.AddInt64(&parked, 1)
				buf := make([]byte, idleRead)
				if got, err := conn.Read(buf); got == 0 && err == io.EOF {
					atomic.AddInt64(&eofs, 1)
				}
				conn.Close()
			}()
		}
		ln.Close()
	}()
	start := time.Now()
	h := startHelper(ln.Addr().String())
	for held := 0; held < n; {
		batch := holdBatch
		if n-held < batch {
			batch = n - held
		}
		held = h.connect(batch)
		h.waitUntilParked(&parked, held, start)
	}
	allParked := time.Since(start)
	time.Sleep(idleSettle)
	rss := procStatus("VmRSS") * 1024
	threads := procStatus("Threads")
	fmt.Fprintf(os.Stderr, "idle_conns: %d parked after %d ms, RSS %d KiB → %d KiB; %d threads: %s\n",
		n, allParked.Milliseconds(), base/1024, rss/1024, threads, threadNames())
	start = time.Now()
	h.release()
	ended.Wait()
	fmt.Fprintf(os.Stderr, "idle_conns: helper gone and every read ended after %d ms\n",
		time.Since(start).Milliseconds())
	check(eofs == int64(n), "idle_conns: %d of %d reads ended in EOF", eofs, n)
	check(rss > base, "idle_conns: RSS did not grow")
	return idle{bytesPerConn: float64(rss-base) / float64(n), threads: threads}
}

// threadNames lists the names of this process's threads, with counts.
func threadNames() string {
	tasks, _ := os.ReadDir("/proc/self/task")
	counts := map[string]int{}
	for _, t := range tasks {
		name, err := os.ReadFile("/proc/self/task/" + t.Name() + "/comm")
		if err == nil {
			counts[strings.TrimSpace(string(name))]++
		}
	}
	var out []string
	for name, n := range counts {
		if n == 1 {
			out = append(out, name)
		} else {
			out = append(out, fmt.Sprintf("%s ×%d", name, n))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// helper is the idle_conns helper process: this program run with --hold-connections.
type helper struct {
	stdin  io.WriteCloser // closed to let go
	stdout *bufio.Reader  // where it says it holds every connection
	exited chan error     // receives the result of Wait when it exits
}

func startHelper(addr string) *helper {
	exe, err := os.Executable()
	must(err, "idle_conns: cannot find this program")
	cmd := exec.Command(exe, "--hold-connections", addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(err, "idle_conns: helper stdin")
	stdout, err := cmd.StdoutPipe()
	must(err, "idle_conns: helper stdout")
	must(cmd.Start(), "idle_conns: cannot start the helper")
	h := &helper{stdin: stdin, stdout: bufio.NewReader(stdout), exited: make(chan error, 1)}
	go func() { h.exited <- cmd.Wait() }()
	return h
}

// waitUntilParked waits until n goroutines have started, failing if the helper exits first
// or idleAcceptLimit passes after start.
func (h *helper) waitUntilParked(parked *int64, n int, start time.Time) {
	for {
		count := atomic.LoadInt64(parked)
		if count == int64(n) {
			return
		}
		select {
		case err := <-h.exited:
			panic(fmt.Sprintf("idle_conns: the helper exited (%v) with %d of %d parked", err, count, n))
		default:
		}
		check(time.Since(start) < idleAcceptLimit, "idle_conns: %d of %d connections parked after %v", count, n, idleAcceptLimit)
		time.Sleep(idlePoll)
	}
}

// connect has the helper connect n more sockets; the number it holds now.
func (h *helper) connect(n int) int {
	_, err := fmt.Fprintf(h.stdin, "%d\n", n)
	must(err, "idle_conns: cannot talk to the helper")
	line, _ := h.stdout.ReadString('\n')
	var held int
	_, err = fmt.Sscanf(line, "holding %d", &held)
	must(err, fmt.Sprintf("idle_conns: the helper said %q, not `holding N`", line))
	return held
}

// release closes the helper's standard input, which makes it close every connection and
// exit, and checks that it exits cleanly.
func (h *helper) release() {
	h.stdin.Close()
	must(<-h.exited, "idle_conns: the helper")
}

// holdConnections is the helper's side.
func holdConnections(addr string) {
	var held []net.Conn
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		n, err := strconv.Atoi(strings.TrimSpace(lines.Text()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "hold-connections: expected a number of connections")
			os.Exit(1)
		}
		for i := 0; i < n; i++ {
			conn, err := net.DialTimeout("tcp", addr, holdConnectLimit)
			if err != nil {
				fmt.Fprintf(os.Stderr, "hold-connections: connection %d to %s: %v\n", len(held), addr, err)
				os.Exit(1)
			}
			held = append(held, conn)
		}
		fmt.Printf("holding %d\n", len(held))
	}
}
