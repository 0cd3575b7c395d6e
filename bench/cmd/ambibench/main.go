// Command ambibench runs the side-by-side benchmarks of package bench
// (ambigen against raw gorilla/websocket) and prints Markdown tables of the
// medians over -reps repetitions with their range, and the ratio
// ambigen/gorilla taken within each repetition. Baseline and ambigen
// alternate which goes first, so that drift in the machine's load falls on
// both. Progress goes to stderr.
//
//	go run ./bench/cmd/ambibench            # the full run, several minutes
//	go run ./bench/cmd/ambibench -quick     # small sizes, a few seconds
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/ambigen/ambigen/bench"
)

func main() {
	bench.RunChildIfRequested()
	var (
		reps         = flag.Int("reps", 5, "repetitions of every scenario")
		only         = flag.String("only", "echo,broadcast,idle,slow,burst,storm,hold,cluster,rooms", "scenarios to run, comma-separated")
		echoClients  = flag.String("echo-clients", "1,100,1000", "client counts for the echo scenario")
		echoFor      = flag.Duration("echo-duration", 2*time.Second, "how long each echo run sends")
		bcastClients = flag.String("broadcast-clients", "1000,10000", "client counts for the broadcast scenario")
		rounds       = flag.Int("rounds", 15, "broadcasts per broadcast run")
		idleConns    = flag.Int("idle-conns", 10000, "connections for the idle-memory scenario")
		slowClients  = flag.Int("slow-clients", 1000, "clients for the slow-consumer scenario")
		slowRounds   = flag.Int("slow-rounds", 120, "broadcasts per slow-consumer run")
		slowInterval = flag.Duration("slow-interval", 25*time.Millisecond, "time between broadcasts in the slow-consumer scenario")
		slowText     = flag.Int("slow-text", 1024, "bytes of text in each slow-consumer broadcast")
		slowBuffer   = flag.Int("slow-buffer", 32<<10, "the server's send buffer in bytes in the slow-consumer scenario (0: the runtime's default)")
		slowSockBuf  = flag.Int("slow-sndbuf", 16<<10, "the server sockets' SO_SNDBUF in the slow-consumer scenario (0: autotuned)")
		burstReaders = flag.Int("burst-readers", 1000, "readers in the burst scenario")
		burstLines   = flag.Int("burst-lines", 1000, "chat lines one client pipelines in the burst scenario")
		stormClients = flag.Int("storm-clients", 5000, "clients dialled on examples/chat in the storm scenario")
		stormBatch   = flag.Int("storm-batch", 100, "clients dialled at once in the storm scenario")
		holdConns    = flag.Int("hold-conns", 1000, "connections holding an unfinished message in the hold scenario")
		holdSize     = flag.Int("hold-size", 1<<20, "bytes of each unfinished message in the hold scenario")
		clusterConns = flag.Int("cluster-clients", 10000, "clients spread over the nodes in the cluster scenario")
		clusterNodes = flag.Int("cluster-nodes", 3, "nodes joined by Redis in the cluster scenario (beside one node alone)")
		roomMembers  = flag.Int("room-members", 100, "members of the room in the rooms scenario")
		roomConns    = flag.Int("room-conns", 10000, "connections in all in the rooms scenario")
		quick        = flag.Bool("quick", false, "tiny sizes, to check the harness")
		cpuProfile   = flag.String("cpuprofile", "", "write the server process's CPU profile here")
		memProfile   = flag.String("memprofile", "", "write the server process's allocation profile here")
		childCPUs    = flag.String("child-cpus", "", "run the client processes on these CPUs (a taskset -c list); start ambibench itself under taskset -c with the others")
	)
	flag.Parse()
	bench.ChildCPUs = *childCPUs
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		// Every allocation, so that allocs per message can be attributed.
		runtime.MemProfileRate = 1
		defer func() {
			f, err := os.Create(*memProfile)
			if err != nil {
				fatal(err)
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fatal(err)
			}
		}()
	}
	if *quick {
		*reps, *echoClients, *echoFor, *bcastClients, *rounds = 2, "1,10", 200*time.Millisecond, "50", 3
		*idleConns, *slowClients, *slowRounds = 100, 20, 20
		*burstReaders, *burstLines, *stormClients, *stormBatch, *holdConns, *holdSize = 20, 100, 200, 50, 20, 64<<10
		*clusterConns, *roomMembers, *roomConns = 60, 10, 100
	}
	if err := bench.RaiseFileLimit(); err != nil {
		fatal(err)
	}
	run := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		run[strings.TrimSpace(s)] = true
	}
	where := "on the same cores"
	if *childCPUs != "" {
		where = "on CPUs " + *childCPUs
	}
	fmt.Printf("ambibench: %s, %d CPUs (GOMAXPROCS %d), %d repetitions; clients run in a child process %s.\n\n",
		runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), *reps, where)
	if run["echo"] {
		for _, n := range ints(*echoClients) {
			section(fmt.Sprintf("Echo, %d clients, %v per run", n, *echoFor), func() []bench.Row { return echo(*reps, n, *echoFor) })
		}
	}
	if run["broadcast"] {
		for _, n := range ints(*bcastClients) {
			section(fmt.Sprintf("Broadcast to %d clients, %d rounds per run (per run: the median round)", n, *rounds), func() []bench.Row { return broadcast(*reps, n, *rounds) })
		}
	}
	if run["idle"] {
		section(fmt.Sprintf("Idle memory, %d connections", *idleConns), func() []bench.Row { return idle(*reps, *idleConns) })
	}
	if run["slow"] {
		slow(*reps, bench.SlowOptions{Clients: *slowClients, Rounds: *slowRounds, Interval: *slowInterval, TextSize: *slowText, SendBuffer: *slowBuffer, SocketBuffer: *slowSockBuf})
	}
	if run["burst"] {
		section(fmt.Sprintf("Burst: one client pipelines %d chat lines to %d readers", *burstLines, *burstReaders), func() []bench.Row { return burst(*reps, *burstReaders, *burstLines) })
	}
	if run["storm"] {
		storm(*reps, *stormClients, *stormBatch)
	}
	if run["hold"] {
		section(fmt.Sprintf("Hold: %d connections each hold an unfinished %d-byte message", *holdConns, *holdSize), func() []bench.Row { return hold(*reps, *holdConns, *holdSize) })
	}
	if run["cluster"] {
		cluster(*reps, *clusterNodes, *clusterConns, *rounds)
	}
	if run["rooms"] {
		rooms(*reps, *roomMembers, *roomConns, *rounds)
	}
}

// cluster compares a broadcast to clients on one node with the same
// clients spread over nodes joined by Redis.
func cluster(reps, nodes, clients, rounds int) {
	start := time.Now()
	fmt.Printf("### Cluster: a broadcast to %d clients on 1 node, and spread over %d nodes through Redis (%d rounds per run; per run: the median round)\n\nload average before: %s\n\n", clients, nodes, rounds, loadavg())
	cols := []int{1, nodes}
	vals := []map[string][]float64{{}, {}}
	var ratio []float64
	for i := range reps {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		var last [2]float64
		for _, c := range order {
			progress("cluster %d nodes %d clients, rep %d", cols[c], clients, i+1)
			r, err := bench.Cluster(cols[c], clients, rounds)
			if err != nil {
				fatal(err)
			}
			vals[c]["time until the last client has it"] = append(vals[c]["time until the last client has it"], float64(r.Median))
			vals[c]["servers' CPU per broadcast (all nodes)"] = append(vals[c]["servers' CPU per broadcast (all nodes)"], float64(r.CPUPerRound))
			vals[c]["Redis PUBLISH per broadcast"] = append(vals[c]["Redis PUBLISH per broadcast"], r.PublishesPerRound)
			last[c] = float64(r.Median)
		}
		ratio = append(ratio, last[1]/last[0])
	}
	fmt.Printf("| metric | 1 node | %d nodes through Redis |\n|---|---|---|\n", nodes)
	for _, m := range []struct {
		name string
		unit bench.Unit
	}{{"time until the last client has it", bench.Duration}, {"servers' CPU per broadcast (all nodes)", bench.Duration}, {"Redis PUBLISH per broadcast", bench.Decimal}} {
		fmt.Printf("| %s | %s | %s |\n", m.name, bench.Summarize(vals[0][m.name]).Format(m.unit), bench.Summarize(vals[1][m.name]).Format(m.unit))
	}
	fmt.Printf("\ntime until the last client has it, %d nodes / 1 node: %s\n", nodes, bench.Summarize(ratio).Format(bench.Ratio))
	fmt.Printf("\nload average after: %s; took %v\n\n", loadavg(), time.Since(start).Round(time.Second))
}

// rooms compares a room broadcast to members among conns connections with
// the same on a server that holds only the members, and with a filtered
// broadcast to the same members, which looks at every connection.
func rooms(reps, members, conns, rounds int) {
	start := time.Now()
	fmt.Printf("### Rooms: a broadcast to a room of %d among %d connections (%d rounds per run; per run: the median round)\n\nload average before: %s\n\n", members, conns, rounds, loadavg())
	type col struct {
		name   string
		others int
		filter bool
	}
	cols := []col{
		{fmt.Sprintf("room, %d connections", conns), conns - members, false},
		{fmt.Sprintf("room, %d connections", members), 0, false},
		{fmt.Sprintf("filter (BroadcastFunc), %d connections", conns), conns - members, true},
	}
	vals := make([]map[string][]float64, len(cols))
	for c := range cols {
		vals[c] = map[string][]float64{}
	}
	var ratio []float64
	for i := range reps {
		var cpu [3]float64
		for k := range cols {
			c := (k + i) % len(cols)
			progress("rooms %s, rep %d", cols[c].name, i+1)
			r, err := bench.Room(members, cols[c].others, rounds, cols[c].filter)
			if err != nil {
				fatal(err)
			}
			vals[c]["time until the last member has it"] = append(vals[c]["time until the last member has it"], float64(r.Median))
			vals[c]["server CPU per broadcast"] = append(vals[c]["server CPU per broadcast"], float64(r.CPUPerRound))
			vals[c]["messages sent per broadcast"] = append(vals[c]["messages sent per broadcast"], r.SentPerRound)
			cpu[c] = float64(r.CPUPerRound)
		}
		ratio = append(ratio, cpu[0]/cpu[1])
	}
	fmt.Printf("| metric | %s | %s | %s |\n|---|---|---|---|\n", cols[0].name, cols[1].name, cols[2].name)
	for _, m := range []struct {
		name string
		unit bench.Unit
	}{{"time until the last member has it", bench.Duration}, {"server CPU per broadcast", bench.Duration}, {"messages sent per broadcast", bench.Decimal}} {
		fmt.Printf("| %s | %s | %s | %s |\n", m.name, bench.Summarize(vals[0][m.name]).Format(m.unit), bench.Summarize(vals[1][m.name]).Format(m.unit), bench.Summarize(vals[2][m.name]).Format(m.unit))
	}
	fmt.Printf("\nserver CPU per room broadcast, %d connections / %d connections: %s\n", conns, members, bench.Summarize(ratio).Format(bench.Ratio))
	fmt.Printf("\nload average after: %s; took %v\n\n", loadavg(), time.Since(start).Round(time.Second))
}

func burst(reps, readers, lines int) []bench.Row {
	complete, closed, elapsed, cpu := series{}, series{}, series{}, series{}
	for i := range reps {
		for _, k := range order(i) {
			progress("burst %s %d readers, rep %d", k, readers, i+1)
			r, err := bench.Burst(k, readers, lines)
			if err != nil {
				fatal(err)
			}
			complete[k] = append(complete[k], float64(r.Complete))
			closed[k] = append(closed[k], float64(r.Closed))
			elapsed[k] = append(elapsed[k], float64(r.Elapsed))
			cpu[k] = append(cpu[k], float64(r.CPU))
		}
	}
	return []bench.Row{
		complete.row(fmt.Sprintf("clients with every line, in order (of %d)", readers+1), bench.Count),
		closed.row("clients disconnected by the server", bench.Count),
		elapsed.row("time until the last client has the last line", bench.Duration),
		cpu.row("server CPU for the burst", bench.Duration),
	}
}

func hold(reps, conns, size int) []bench.Row {
	heap, rss, open, later, other := series{}, series{}, series{}, series{}, series{}
	for i := range reps {
		for _, k := range order(i) {
			progress("hold %s %d conns, rep %d", k, conns, i+1)
			r, err := bench.Hold(k, conns, size)
			if err != nil {
				fatal(err)
			}
			heap[k] = append(heap[k], float64(r.Heap))
			rss[k] = append(rss[k], float64(r.RSS))
			open[k] = append(open[k], float64(r.Open))
			later[k] = append(later[k], float64(r.TryLater))
			other[k] = append(other[k], float64(r.OtherClosed))
		}
	}
	return []bench.Row{
		heap.row("server heap+stack taken", bench.Bytes),
		rss.row("server RSS taken", bench.Bytes),
		open.row("connections still open", bench.Count),
		later.row("closed with 1013 (try again later)", bench.Count),
		other.row("closed otherwise", bench.Count),
	}
}

// storm compares the chat example as it is (count announcements coalesced)
// with the documentation's behaviour (-presence-interval 0).
func storm(reps, clients, batch int) {
	start := time.Now()
	fmt.Printf("### Storm: %d clients dialled %d at a time on examples/chat\n\nload average before: %s\n\n", clients, batch, loadavg())
	dir, err := os.MkdirTemp("", "ambibench")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := bench.BuildChat(dir)
	if err != nil {
		fatal(err)
	}
	type col struct {
		name  string
		every time.Duration
	}
	cols := []col{{"announce on every join (documentation)", 0}, {"coalesced, 100ms (examples/chat)", 100 * time.Millisecond}}
	vals := make([]map[string][]float64, len(cols))
	for c := range cols {
		vals[c] = map[string][]float64{}
	}
	for i := range reps {
		for c, col := range cols {
			progress("storm %s %d clients, rep %d", col.name, clients, i+1)
			r, err := bench.Storm(bin, clients, batch, col.every)
			if err != nil {
				fatal(err)
			}
			vals[c]["connected"] = append(vals[c]["connected"], float64(r.Connected))
			vals[c]["dial errors"] = append(vals[c]["dial errors"], float64(r.DialErrors))
			vals[c]["closed by the server"] = append(vals[c]["closed by the server"], float64(r.Closed))
			vals[c]["count updates received"] = append(vals[c]["count updates received"], float64(r.Updates))
			vals[c]["time to dial them all"] = append(vals[c]["time to dial them all"], float64(r.Elapsed))
			vals[c]["chat server CPU"] = append(vals[c]["chat server CPU"], float64(r.CPU))
		}
	}
	fmt.Printf("| metric | %s | %s |\n|---|---|---|\n", cols[0].name, cols[1].name)
	for _, m := range []struct {
		name string
		unit bench.Unit
	}{{"connected", bench.Count}, {"dial errors", bench.Count}, {"closed by the server", bench.Count}, {"count updates received", bench.Count}, {"time to dial them all", bench.Duration}, {"chat server CPU", bench.Duration}} {
		fmt.Printf("| %s | %s | %s |\n", m.name, bench.Summarize(vals[0][m.name]).Format(m.unit), bench.Summarize(vals[1][m.name]).Format(m.unit))
	}
	fmt.Printf("\nload average after: %s; took %v\n\n", loadavg(), time.Since(start).Round(time.Second))
}

func section(title string, rows func() []bench.Row) {
	start := time.Now()
	fmt.Printf("### %s\n\nload average before: %s\n\n", title, loadavg())
	bench.WriteTable(os.Stdout, rows())
	fmt.Printf("\nload average after: %s; took %v\n\n", loadavg(), time.Since(start).Round(time.Second))
}

// order alternates which kind runs first in repetition i.
func order(i int) []bench.Kind {
	if i%2 == 0 {
		return []bench.Kind{bench.Gorilla, bench.Ambigen}
	}
	return []bench.Kind{bench.Ambigen, bench.Gorilla}
}

// series collects one value per repetition for each kind.
type series map[bench.Kind][]float64

func (s series) row(name string, u bench.Unit) bench.Row {
	return bench.Row{Name: name, Unit: u, Baseline: s[bench.Gorilla], Ambigen: s[bench.Ambigen]}
}

func echo(reps, clients int, d time.Duration) []bench.Row {
	rate, p50, p99, cpu, allocs, bytes, syscr, syscw, sw := series{}, series{}, series{}, series{}, series{}, series{}, series{}, series{}, series{}
	for i := range reps {
		for _, k := range order(i) {
			progress("echo %s %d clients, rep %d", k, clients, i+1)
			r, err := bench.Echo(k, clients, d)
			if err != nil {
				fatal(err)
			}
			rate[k] = append(rate[k], r.PerSecond)
			p50[k] = append(p50[k], float64(r.P50))
			p99[k] = append(p99[k], float64(r.P99))
			cpu[k] = append(cpu[k], float64(r.CPUPerMsg))
			allocs[k] = append(allocs[k], r.AllocsPerMsg)
			bytes[k] = append(bytes[k], r.BytesPerMsg)
			syscr[k] = append(syscr[k], r.SyscrPerMsg)
			syscw[k] = append(syscw[k], r.SyscwPerMsg)
			sw[k] = append(sw[k], r.SwitchesPerMsg)
		}
	}
	return []bench.Row{
		rate.row("round trips/s", bench.Count),
		p50.row("latency p50", bench.Duration),
		p99.row("latency p99", bench.Duration),
		cpu.row("server CPU per message", bench.Duration),
		allocs.row("server allocs per message", bench.Decimal),
		bytes.row("server bytes allocated per message", bench.Bytes),
		syscr.row("server read syscalls per message (/proc/self/io)", bench.Decimal),
		syscw.row("server write syscalls per message (/proc/self/io)", bench.Decimal),
		sw.row("server context switches per message (getrusage)", bench.Decimal),
	}
}

func broadcast(reps, clients, rounds int) []bench.Row {
	last, cpu, syscw, bytes := series{}, series{}, series{}, series{}
	for i := range reps {
		for _, k := range order(i) {
			progress("broadcast %s %d clients, rep %d", k, clients, i+1)
			r, err := bench.Broadcast(k, clients, rounds)
			if err != nil {
				fatal(err)
			}
			last[k] = append(last[k], float64(r.Median))
			cpu[k] = append(cpu[k], float64(r.CPUPerRound))
			syscw[k] = append(syscw[k], r.SyscwPerClient)
			bytes[k] = append(bytes[k], r.BytesPerClient)
		}
	}
	return []bench.Row{
		last.row("time until the last client has it", bench.Duration),
		cpu.row("server CPU per broadcast", bench.Duration),
		syscw.row("write syscalls per recipient (/proc/self/io)", bench.Decimal),
		bytes.row("server bytes allocated per recipient", bench.Bytes),
	}
}

func idle(reps, conns int) []bench.Row {
	fresh, after, rssFresh, rssAfter := series{}, series{}, series{}, series{}
	for i := range reps {
		for _, k := range order(i) {
			progress("idle %s %d conns, rep %d", k, conns, i+1)
			r, err := bench.Idle(k, conns)
			if err != nil {
				fatal(err)
			}
			fresh[k] = append(fresh[k], r.FreshPerConn)
			after[k] = append(after[k], r.AfterPerConn)
			rssFresh[k] = append(rssFresh[k], r.RSSFreshPerConn)
			rssAfter[k] = append(rssAfter[k], r.RSSAfterPerConn)
		}
	}
	return []bench.Row{
		fresh.row("heap+stack per connection, fresh", bench.Bytes),
		after.row("heap+stack per connection, after one dispatch", bench.Bytes),
		rssFresh.row("RSS per connection, fresh", bench.Bytes),
		rssAfter.row("RSS per connection, after one dispatch", bench.Bytes),
	}
}

func slow(reps int, o bench.SlowOptions) {
	start := time.Now()
	fmt.Printf("### Slow consumer: ambigen, %d clients, a broadcast of a %d-byte text every %v, %d per run, send queue %d, SO_SNDBUF %d\n\nload average before: %s\n\n",
		o.Clients, o.TextSize, o.Interval, o.Rounds, o.SendBuffer, o.SocketBuffer, loadavg())
	var med, p99, smed, sp99, ratio []float64
	closed := 0
	for i := range reps {
		progress("slow consumer %d clients, rep %d", o.Clients, i+1)
		r, err := bench.SlowConsumer(o)
		if err != nil {
			fatal(err)
		}
		med, p99 = append(med, float64(r.Median)), append(p99, float64(r.P99))
		smed, sp99 = append(smed, float64(r.SlowMedian)), append(sp99, float64(r.SlowP99))
		ratio = append(ratio, float64(r.SlowMedian)/float64(r.Median))
		if r.SlowClosed {
			closed++
		}
	}
	fmt.Println("| delivery to the readers | all read | one never reads |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| median | %s | %s |\n", bench.Summarize(med).Format(bench.Duration), bench.Summarize(smed).Format(bench.Duration))
	fmt.Printf("| p99 | %s | %s |\n", bench.Summarize(p99).Format(bench.Duration), bench.Summarize(sp99).Format(bench.Duration))
	fmt.Printf("\nmedian with / without the slow client: %s; slow client closed with 1008 in %d of %d runs\n",
		bench.Summarize(ratio).Format(bench.Ratio), closed, reps)
	fmt.Printf("\nload average after: %s; took %v\n\n", loadavg(), time.Since(start).Round(time.Second))
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fatal(fmt.Errorf("bad count %q", f))
		}
		out = append(out, n)
	}
	return out
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ambibench: "+format+"\n", args...)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ambibench:", err)
	os.Exit(1)
}
