// The workloads of the coordination primitives (benches/benches/shared/sync_workloads.rs)
// in Go, with the same definitions and checks: Go's own channels and select, sync.Mutex and
// sync.WaitGroup. Go has channels of capacity 0, so the ping_pong_cap0 rows use them, as
// goro does (tokio and smol have none and use capacity 1).

package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The constants of benches/src/plan.rs.
const (
	mpmcProducers = 4  // MPMC_PRODUCERS
	mpmcConsumers = 4  // MPMC_CONSUMERS
	mpmcCapacity  = 64 // MPMC_CAPACITY
)

// mutexContention: tasks goroutines each lock one sync.Mutex locks times to add 1 to the
// counter it guards; ns per lock.
func mutexContention(tasks, locks int) float64 {
	var mu sync.Mutex
	counter := 0
	var finished sync.WaitGroup
	finished.Add(tasks)
	start := time.Now()
	for t := 0; t < tasks; t++ {
		go func() {
			defer finished.Done()
			for i := 0; i < locks; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	finished.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	total := counter
	mu.Unlock()
	check(total == tasks*locks, "mutex_contention: the counter lost increments (%d of %d)", total, tasks*locks)
	return nsPer(elapsed, tasks*locks)
}

// mutexLongWork is MUTEX_LONG_WORK of benches/src/plan.rs.
const mutexLongWork = 1000

// longWork is long_work of sync_workloads.rs: mutexLongWork dependent multiply-adds.
func longWork(x uint64) uint64 {
	for i := 0; i < mutexLongWork; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// mutexLong: tasks goroutines each lock one sync.Mutex locks times and, holding it, run
// longWork on the value it guards; ns per lock. Checked against the same steps in order.
func mutexLong(tasks, locks int) float64 {
	var mu sync.Mutex
	var state uint64
	var finished sync.WaitGroup
	finished.Add(tasks)
	start := time.Now()
	for t := 0; t < tasks; t++ {
		go func() {
			defer finished.Done()
			for i := 0; i < locks; i++ {
				mu.Lock()
				state = longWork(state)
				mu.Unlock()
			}
		}()
	}
	finished.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	total := state
	mu.Unlock()
	var expected uint64
	for i := 0; i < tasks*locks; i++ {
		expected = longWork(expected)
	}
	check(total == expected, "mutex_long: a critical section was lost or torn")
	return nsPer(elapsed, tasks*locks)
}

// waitGroup: n tiny goroutines started and waited for with a sync.WaitGroup (Add(n) once,
// Done in each); ns per goroutine.
func waitGroup(n int) float64 {
	var ran int64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&ran, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// Wait synchronises with every Done, so every increment is visible here.
	got := atomic.LoadInt64(&ran)
	check(got == int64(n), "waitgroup: the wait returned after %d of %d goroutines", got, n)
	return nsPer(elapsed, n)
}

// pingPong: two goroutines pass a counter back and forth trips times over two channels of
// capacity capacity, one of them adding 1; ns per round trip.
func pingPong(trips, capacity int) float64 {
	ping, pong := make(chan int, capacity), make(chan int, capacity)
	echoed := make(chan struct{})
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(echoed)
	}()
	start := time.Now()
	for i := 0; i < trips; i++ {
		ping <- i
		reply := <-pong
		check(reply == i+1, "ping_pong: wrong reply %d to trip %d", reply, i)
	}
	elapsed := time.Since(start)
	close(ping)
	<-echoed
	return nsPer(elapsed, trips)
}

// mpmc: mpmcProducers goroutines send total distinct values into one channel of capacity
// mpmcCapacity and mpmcConsumers goroutines receive them until it closes; millions of values
// per second, from the first start until every consumer has seen the channel close. The
// last producer to finish closes the channel, as the last sender dropped closes it in Rust.
func mpmc(total int) float64 {
	perProducer := total / mpmcProducers
	total = perProducer * mpmcProducers
	ch := make(chan int, mpmcCapacity)
	received := make([][]int, mpmcConsumers)
	var consumed sync.WaitGroup
	consumed.Add(mpmcConsumers)
	producing := int64(mpmcProducers)
	start := time.Now()
	for c := 0; c < mpmcConsumers; c++ {
		go func(c int) {
			defer consumed.Done()
			var got []int
			for v := range ch {
				got = append(got, v)
			}
			received[c] = got
		}(c)
	}
	for p := 0; p < mpmcProducers; p++ {
		go func(p int) {
			for v := p * perProducer; v < (p+1)*perProducer; v++ {
				ch <- v
			}
			if atomic.AddInt64(&producing, -1) == 0 {
				close(ch)
			}
		}(p)
	}
	consumed.Wait()
	elapsed := time.Since(start)
	checkEachOnce(received, total)
	return float64(total) / elapsed.Seconds() / 1e6
}

// checkEachOnce panics unless received holds every value below total exactly once.
func checkEachOnce(received [][]int, total int) {
	seen := make([]bool, total)
	count := 0
	for _, got := range received {
		for _, v := range got {
			check(v >= 0 && v < total, "mpmc: received %d, which nobody sent", v)
			check(!seen[v], "mpmc: received %d twice", v)
			seen[v] = true
		}
		count += len(got)
	}
	check(count == total, "mpmc: %d of %d values received", count, total)
}

// select2: one goroutine selects n times over two channels each prefilled with n values, so
// both are ready every time; ns per select.
func select2(n int) float64 {
	a, b := make(chan int, n), make(chan int, n)
	for i := 0; i < n; i++ {
		a <- i
		b <- i
	}
	nextA, nextB := 0, 0
	start := time.Now()
	for i := 0; i < n; i++ {
		select {
		case v := <-a:
			check(v == nextA, "select2: first arm received %d, expected %d", v, nextA)
			nextA++
		case v := <-b:
			check(v == nextB, "select2: second arm received %d, expected %d", v, nextB)
			nextB++
		}
	}
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stderr, "select2: first arm taken %d times, second %d\n", nextA, nextB)
	check(nextA+nextB == n, "select2: selects lost")
	check(nextA > 0 && nextB > 0, "select2: one arm was never chosen although both were always ready")
	return nsPer(elapsed, n)
}

// chanMemory: n goroutines each make a channel of capacity 1 and wait to receive from it
// for ever (the goroutine keeps the channel, so its sending side stays open); growth of RSS
// per goroutine.
func chanMemory(n int) float64 {
	return parkedMemory(n, "chan_memory", func(parked *int64) {
		ch := make(chan uint64, 1)
		atomic.AddInt64(parked, 1)
		v, ok := <-ch
		panic(fmt.Sprintf("chan_memory: a receive returned (%d, %v) on a channel nobody sends on", v, ok))
	})
}
