// The runtime workloads of benches/benches/shared/workloads.rs in Go, with the same
// definitions and checks. Where the Rust version awaits a countdown latch (the harness's
// stand-in for a WaitGroup), this one uses latch below: the same atomic countdown, with a
// channel closed by the last count instead of a stored waker. Go runs main on a goroutine
// like any other, so the timed parts run there, not in a spawned driver goroutine.

package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The constants of benches/src/plan.rs and benches/benches/shared/workloads.rs.
const (
	sleep                = 100 * time.Millisecond // SLEEP
	startPoll            = time.Millisecond       // START_POLL
	warmUpTasksPerWorker = 4                      // WARM_UP_TASKS_PER_WORKER
)

// latch counts down from n; wait returns once it reaches zero.
type latch struct {
	left int64
	done chan struct{}
}

func newLatch(n int) *latch {
	return &latch{left: int64(n), done: make(chan struct{})}
}

func (l *latch) countDown() {
	if atomic.AddInt64(&l.left, -1) == 0 {
		close(l.done)
	}
}

func (l *latch) wait() { <-l.done }

func (l *latch) remaining() int64 { return atomic.LoadInt64(&l.left) }

// warmUp starts a few goroutines per P and waits for them, as the Rust children do before
// measuring, so that the threads behind the Ps have started.
func warmUp() {
	n := runtime.GOMAXPROCS(0) * warmUpTasksPerWorker
	results := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) { results <- i }(i)
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += <-results
	}
	check(sum == n*(n-1)/2, "warm-up goroutines returned wrong values")
}

// spawnMany: n tiny goroutines started from a goroutine; ns per goroutine until the last
// one ran.
func spawnMany(n int) float64 {
	l := newLatch(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go l.countDown()
	}
	l.wait()
	elapsed := time.Since(start)
	check(l.remaining() == 0, "spawn_many: not every goroutine ran")
	return nsPer(elapsed, n)
}

// yieldMany: tasks goroutines each call runtime.Gosched yields times; ns per yield.
func yieldMany(tasks, yields int) float64 {
	var yielded int64
	l := newLatch(tasks)
	start := time.Now()
	for i := 0; i < tasks; i++ {
		go func() {
			for y := 0; y < yields; y++ {
				runtime.Gosched()
			}
			atomic.AddInt64(&yielded, int64(yields))
			l.countDown()
		}()
	}
	l.wait()
	elapsed := time.Since(start)
	total := tasks * yields
	check(atomic.LoadInt64(&yielded) == int64(total), "yield_many: yields lost")
	return nsPer(elapsed, total)
}

// chainEnd is where the last goroutine of a chain reports.
type chainEnd struct {
	hops int
	l    *latch
}

// hop is one goroutine of a chain: it starts the next, or ends the chain after left more.
func hop(left, hops int, end *chainEnd) {
	if left == 0 {
		end.hops = hops
		end.l.countDown()
		return
	}
	go hop(left-1, hops+1, end)
}

// chainedSpawn: chains chains, one after another, of depth goroutines each starting the
// next; ns per hop.
func chainedSpawn(depth, chains int) float64 {
	start := time.Now()
	for chain := 0; chain < chains; chain++ {
		end := &chainEnd{l: newLatch(1)}
		hop(depth, 0, end)
		end.l.wait()
		check(end.hops == depth, "chained_spawn: chain %d made %d hops", chain, end.hops)
	}
	return nsPer(time.Since(start), depth*chains)
}

// sleepers: n goroutines sleep `sleep`; wall ms from the first start to the last wake. The
// spawn time, the last goroutine's start and the worst lateness go to stderr.
func sleepers(n int) float64 {
	var early, lastStartUs, maxLateUs int64
	l := newLatch(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			sleptAt := time.Now()
			time.Sleep(sleep)
			slept := time.Since(sleptAt)
			atomicMax(&lastStartUs, sleptAt.Sub(start).Microseconds())
			if slept < sleep {
				atomic.AddInt64(&early, 1)
			} else {
				atomicMax(&maxLateUs, (slept - sleep).Microseconds())
			}
			l.countDown()
		}()
	}
	spawned := time.Since(start)
	l.wait()
	elapsed := time.Since(start)
	check(atomic.LoadInt64(&early) == 0, "sleepers: %d goroutines woke before their deadline", early)
	fmt.Fprintf(os.Stderr, "sleepers: spawn loop %.1f ms; last goroutine began sleeping at %.1f ms; "+
		"worst wake %.1f ms after its deadline; last wake at %.1f ms\n",
		ms(spawned), float64(lastStartUs)/1000, float64(maxLateUs)/1000, ms(elapsed))
	return ms(elapsed)
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

// atomicMax raises *v to x if x is larger.
func atomicMax(v *int64, x int64) {
	for {
		old := atomic.LoadInt64(v)
		if x <= old || atomic.CompareAndSwapInt64(v, old, x) {
			return
		}
	}
}

// idleMemory: n goroutines blocked for ever (`select {}`); growth of RSS per goroutine.
func idleMemory(n int) float64 {
	return parkedMemory(n, "idle_memory", func(parked *int64) {
		atomic.AddInt64(parked, 1)
		select {}
	})
}

// parkedMemory starts n goroutines running task(parked), each of which adds 1 to parked
// just before it blocks for ever; the growth of RSS per goroutine once all have blocked.
func parkedMemory(n int, workload string, task func(parked *int64)) float64 {
	base := procStatus("VmRSS") * 1024
	var parked int64
	for i := 0; i < n; i++ {
		go task(&parked)
	}
	for atomic.LoadInt64(&parked) < int64(n) {
		time.Sleep(startPoll)
	}
	grown := procStatus("VmRSS")*1024 - base
	live := runtime.NumGoroutine()
	check(live >= n, "%s: %d goroutines parked but the runtime counts %d", workload, n, live)
	check(grown > 0, "%s: RSS did not grow (%d bytes)", workload, grown)
	return float64(grown) / float64(n)
}

// matrix is an n × n matrix of small exact values, different for each seed.
func matrix(n, seed int) []float64 {
	m := make([]float64, n*n)
	for i := range m {
		m[i] = float64((i*7+seed*13)%17)/8.0 - 1.0
	}
	return m
}

// productRow is row i of a × b (both n × n, row-major), in i-k-j order so b is read
// row-wise. Never inlined: inlined into its two callers it compiled to loops of different
// speed (on one P the "parallel" product took 2/3 of the sequential time), and the speedup
// must compare the same code run on one thread and on all.
//
//go:noinline
func productRow(a, b []float64, n, i int) []float64 {
	row := make([]float64, n)
	for k := 0; k < n; k++ {
		aik := a[i*n+k]
		bk := b[k*n : (k+1)*n]
		for j := range row {
			row[j] += aik * bk[j]
		}
	}
	return row
}

// productSequential is a × b on the calling goroutine.
func productSequential(a, b []float64, n int) [][]float64 {
	product := make([][]float64, n)
	for i := range product {
		product[i] = productRow(a, b, n, i)
	}
	return product
}

// productParallel is a × b with one goroutine per row.
func productParallel(a, b []float64, n int) [][]float64 {
	product := make([][]float64, n)
	var rows sync.WaitGroup
	rows.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			product[i] = productRow(a, b, n, i)
			rows.Done()
		}(i)
	}
	rows.Wait()
	return product
}

// equal is whether two products are the same bit for bit (no NaN occurs).
func equal(x, y [][]float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if len(x[i]) != len(y[i]) {
			return false
		}
		for j := range x[i] {
			if x[i][j] != y[i][j] {
				return false
			}
		}
	}
	return true
}

// cpuParallel: sequential time / parallel time of an n × n matmul over rounds alternating
// rounds (after one untimed round of each), every parallel result checked against the
// sequential one.
func cpuParallel(n, rounds int) float64 {
	a, b := matrix(n, 1), matrix(n, 2)
	expected := productSequential(a, b, n)
	check(equal(productParallel(a, b, n), expected), "cpu_parallel: wrong product")
	var sequential, parallel time.Duration
	for r := 0; r < rounds; r++ {
		start := time.Now()
		seq := productSequential(a, b, n)
		sequential += time.Since(start)
		start = time.Now()
		par := productParallel(a, b, n)
		parallel += time.Since(start)
		check(equal(seq, expected), "cpu_parallel: sequential product changed")
		check(equal(par, expected), "cpu_parallel: parallel product differs from sequential")
	}
	return sequential.Seconds() / parallel.Seconds()
}
