// Command goro-bench-go is the Go column of goro's comparison harness: the workloads of
// benches/benches/shared/ written in Go, with the same definitions, sizes and checks.
//
// The harness builds the files of this folder with `go build` where `go` is installed and
// runs the program as a child:
//
//	goro-bench-go --child WORKLOAD go ALLOCATOR COUNT REPEAT
//
// with GOMAXPROCS set to the workers the Rust runtimes get (1 in the _1worker rows). It
// measures once, prints `goro-bench-result ALLOCATOR WORKLOAD go VALUE` and exits 0; a failed
// check panics (exit status 2), and a watchdog exits after 120 s. ALLOCATOR only names the
// table the number goes in: Go has its own. COUNT and REPEAT are the plan's sizes
// (benches/src/plan.rs).
//
//	goro-bench-go --hold-connections ADDR
//
// is the idle_conns helper, as in the Rust binaries (see net.go).
//
// The workloads: runtime.go (spawning, yielding, sleeping, parked memory, the parallel
// matmul), sync.go (channels, select, sync.Mutex, sync.WaitGroup) and net.go (sockets).
// spawn_remote and blocking_pool have no Go version (see plan.rs, Workload::in_go): Go runs
// no code outside its scheduler to spawn from, and has no pool of blocking threads to hand a
// call to.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// watchdog is goro_benches::child::WATCHDOG.
const watchdog = 120 * time.Second

// workloads maps each workload name to its Go version, given COUNT and REPEAT.
var workloads = map[string]func(count, repeat int) float64{
	"spawn_many":             func(n, _ int) float64 { return spawnMany(n) },
	"yield_many":             yieldMany,
	"chained_spawn":          chainedSpawn,
	"sleepers":               func(n, _ int) float64 { return sleepers(n) },
	"idle_memory":            func(n, _ int) float64 { return idleMemory(n) },
	"cpu_parallel":           cpuParallel,
	"ping_pong_cap0":         func(n, _ int) float64 { return pingPong(n, 0) },
	"ping_pong_cap1":         func(n, _ int) float64 { return pingPong(n, 1) },
	"ping_pong_cap0_1worker": func(n, _ int) float64 { return pingPong(n, 0) },
	"ping_pong_cap1_1worker": func(n, _ int) float64 { return pingPong(n, 1) },
	"mpmc":                   func(n, _ int) float64 { return mpmc(n) },
	"mutex_contention":       mutexContention,
	"mutex_long":             mutexLong,
	"waitgroup":              func(n, _ int) float64 { return waitGroup(n) },
	"select2":                func(n, _ int) float64 { return select2(n) },
	"chan_memory":            func(n, _ int) float64 { return chanMemory(n) },
	"tcp_echo":               tcpEcho,
	"tcp_stream":             func(n, _ int) float64 { return tcpStream(n) },
	"tcp_churn":              func(n, _ int) float64 { return tcpChurn(n) },
	"idle_conns":             func(n, _ int) float64 { return idleConns(n).bytesPerConn },
	"idle_conns_threads":     func(n, _ int) float64 { return float64(idleConns(n).threads) },
}

func main() {
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "--hold-connections" {
		holdConnections(args[1])
		return
	}
	if len(args) != 6 || args[0] != "--child" || args[2] != "go" {
		fmt.Fprintln(os.Stderr, "usage: goro-bench-go --child WORKLOAD go ALLOCATOR COUNT REPEAT")
		os.Exit(2)
	}
	workload, allocator := args[1], args[3]
	count, repeat := atoi(args[4]), atoi(args[5])
	run, ok := workloads[workload]
	if !ok {
		fmt.Fprintf(os.Stderr, "no Go version of a workload named `%s`\n", workload)
		os.Exit(2)
	}
	time.AfterFunc(watchdog, func() {
		fmt.Fprintf(os.Stderr, "watchdog: %s on go still running after %v; exiting\n", workload, watchdog)
		os.Exit(3)
	})
	warmUp()
	value := run(count, repeat)
	fmt.Fprintf(os.Stderr, "measured %v\n", value)
	fmt.Printf("goro-bench-result %s %s go %s\n", allocator, workload, strconv.FormatFloat(value, 'f', -1, 64))
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "`%s` is not a number\n", s)
		os.Exit(2)
	}
	return n
}

// check panics with the message when ok is false.
func check(ok bool, format string, args ...interface{}) {
	if !ok {
		panic(fmt.Sprintf(format, args...))
	}
}

// must panics when err is not nil, saying what failed.
func must(err error, what string) {
	if err != nil {
		panic(fmt.Sprintf("%s: %v", what, err))
	}
}

// nsPer is goro_benches::ns_per: nanoseconds per item.
func nsPer(elapsed time.Duration, items int) float64 {
	return float64(elapsed.Nanoseconds()) / float64(items)
}

// procStatus is the number of field (VmRSS in KiB, Threads) of /proc/self/status.
func procStatus(field string) int {
	status, err := os.ReadFile("/proc/self/status")
	must(err, "cannot read /proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, field+":") {
			words := strings.Fields(line)
			value, err := strconv.Atoi(words[1])
			must(err, "bad "+field+" line")
			return value
		}
	}
	panic("no " + field + " line in /proc/self/status")
}
