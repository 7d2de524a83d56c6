package console

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"gatehouse/client"
)

// Analytics of a catalog, drawn as inline SVG on the server: no chart
// library, no script, nothing fetched from anywhere.

// ranges the page offers, with the interval of each.
var ranges = []struct {
	Value    string
	Label    string
	Span     time.Duration
	Interval time.Duration
}{
	{"15m", "Last 15 minutes", 15 * time.Minute, time.Minute},
	{"1h", "Last hour", time.Hour, time.Minute},
	{"6h", "Last 6 hours", 6 * time.Hour, 5 * time.Minute},
	{"24h", "Last 24 hours", 24 * time.Hour, 15 * time.Minute},
}

var statusClasses = []string{"2xx", "3xx", "4xx", "5xx"}

func (s *Console) analytics(w http.ResponseWriter, r *http.Request, ss *session) error {
	ctx, org, env := r.Context(), r.PathValue("org"), r.PathValue("env")
	o, err := ss.c.GetOrg(ctx, org)
	if err != nil {
		return err
	}
	e, err := ss.c.GetEnvironment(ctx, org, env)
	if err != nil {
		return err
	}
	sel := ranges[1]
	for _, rg := range ranges {
		if rg.Value == r.URL.Query().Get("range") {
			sel = rg
		}
	}
	until := s.now().UTC().Truncate(sel.Interval).Add(sel.Interval)
	a, err := ss.c.Analytics(ctx, org, env, client.AnalyticsQuery{Since: until.Add(-sel.Span), Until: until, Interval: sel.Interval})
	if err != nil {
		return err
	}
	// App ids to names, where the caller can list them.
	appName := map[string]string{}
	if apps, _, err := ss.c.ListConsumerApps(ctx, org, env, client.PageOptions{Limit: 1000}); err == nil {
		for _, ap := range apps {
			appName[ap.ID] = ap.Name
		}
	}
	for i := range a.ByApp {
		if n := appName[a.ByApp[i].Name]; n != "" {
			a.ByApp[i].Name = n
		}
	}
	return s.render(w, r, http.StatusOK, "analytics", &view{Title: "Analytics of " + e.Title, Section: "orgs", S: ss,
		Crumbs: []crumb{{"Provider orgs", "/console/orgs"}, {o.Title, orgURL(o.Name)}, {e.Title, catalogURL(o.Name, e.Name)}},
		D: map[string]any{
			"Org": o, "Env": e, "Report": a, "Ranges": ranges, "Range": sel.Value,
			"Calls":   callsChart(a, sel.Interval),
			"Latency": latencyChart(a, sel.Interval),
			"Classes": statusClasses,
		}})
}

// chart is an SVG chart laid out for the template: coordinates in the
// viewBox, computed here so the template only draws.
type chart struct {
	ID            string
	Title         string
	Width, Height int
	Left, Top     float64 // the plot area
	Right, Bottom float64
	YTicks        []tick
	XTicks        []tick
	Bars          []bar
	Lines         []line
	Legend        []legendItem
	Empty         bool
	Unit          string
	YLabelX       float64 // where the y axis labels end
	XLabelY       float64 // the baseline of the x axis labels
}

type tick struct {
	Pos   float64
	Label string
}

type bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type line struct {
	Class  string
	Points string
	Dots   []dot
}

type dot struct {
	X, Y  float64
	Title string
}

type legendItem struct {
	X     float64
	Class string
	Label string
}

const (
	chartW, chartH                       = 960, 260
	padLeft, padRight, padTop, padBottom = 56.0, 16.0, 28.0, 36.0
)

func newChart(id, title, unit string, a *client.Analytics, yMax float64) *chart {
	c := &chart{ID: id, Title: title, Unit: unit, Width: chartW, Height: chartH,
		Left: padLeft, Top: padTop, Right: chartW - padRight, Bottom: chartH - padBottom}
	c.YLabelX, c.XLabelY = c.Left-6, c.Bottom+20
	top := niceCeil(yMax)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: c.y(v, top), Label: trimFloat(v)})
	}
	n := len(a.Buckets)
	if n > 0 {
		step := max(1, n/6)
		for i := 0; i < n; i += step {
			c.XTicks = append(c.XTicks, tick{Pos: c.Left + (float64(i)+0.5)*c.slot(n), Label: a.Buckets[i].Start.UTC().Format("15:04")})
		}
	}
	return c
}

func (c *chart) slot(n int) float64 { return (c.Right - c.Left) / float64(max(n, 1)) }

func (c *chart) y(v, top float64) float64 {
	if top <= 0 {
		return c.Bottom
	}
	return c.Bottom - (c.Bottom-c.Top)*v/top
}

// callsChart stacks each interval's calls by status class, per minute.
func callsChart(a *client.Analytics, interval time.Duration) *chart {
	perMin := interval.Minutes()
	if perMin <= 0 {
		perMin = 1
	}
	var yMax float64
	for _, b := range a.Buckets {
		yMax = math.Max(yMax, float64(b.Calls)/perMin)
	}
	c := newChart("calls", "Calls per minute by status class", "calls/min", a, yMax)
	c.Empty = a.Calls == 0
	top := niceCeil(yMax)
	n := len(a.Buckets)
	w := c.slot(n)
	for i, b := range a.Buckets {
		x := c.Left + float64(i)*w + w*0.1
		base := 0.0
		for _, cls := range statusClasses {
			v := float64(b.ByStatus[cls]) / perMin
			if v <= 0 {
				continue
			}
			y0, y1 := c.y(base, top), c.y(base+v, top)
			c.Bars = append(c.Bars, bar{X: x, Y: y1, W: w * 0.8, H: y0 - y1, Class: "s" + cls,
				Title: fmt.Sprintf("%s %s: %d calls", b.Start.UTC().Format("15:04"), cls, b.ByStatus[cls])})
			base += v
		}
	}
	for i, cls := range statusClasses {
		c.Legend = append(c.Legend, legendItem{X: c.Left + float64(i)*70, Class: "s" + cls, Label: cls})
	}
	return c
}

// latencyChart draws p50, p95 and p99 per interval (intervals without calls
// leave a gap in the dots, and the lines join the intervals that have some).
func latencyChart(a *client.Analytics, interval time.Duration) *chart {
	var yMax float64
	for _, b := range a.Buckets {
		if b.Calls > 0 {
			yMax = math.Max(yMax, b.Latency.P99)
		}
	}
	c := newChart("latency", "Latency percentiles (ms)", "ms", a, yMax)
	c.Empty = a.Calls == 0
	top := niceCeil(yMax)
	n := len(a.Buckets)
	w := c.slot(n)
	series := []struct {
		name string
		get  func(client.Percentiles) float64
	}{
		{"p50", func(p client.Percentiles) float64 { return p.P50 }},
		{"p95", func(p client.Percentiles) float64 { return p.P95 }},
		{"p99", func(p client.Percentiles) float64 { return p.P99 }},
	}
	for i, sr := range series {
		l := line{Class: sr.name}
		for j, b := range a.Buckets {
			if b.Calls == 0 {
				continue
			}
			x, y := c.Left+(float64(j)+0.5)*w, c.y(sr.get(b.Latency), top)
			l.Points += strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64) + " "
			l.Dots = append(l.Dots, dot{X: x, Y: y, Title: fmt.Sprintf("%s %s: %s ms", b.Start.UTC().Format("15:04"), sr.name, trimFloat(sr.get(b.Latency)))})
		}
		c.Lines = append(c.Lines, l)
		c.Legend = append(c.Legend, legendItem{X: c.Left + float64(i)*70, Class: sr.name, Label: sr.name})
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
