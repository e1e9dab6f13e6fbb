package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/opsreview/opsreview/review"
)

// baselineBatch bounds the hours recomputed by one statement.
const baselineBatch = 2000

// refreshBaselinesSQL computes the bands of a batch of hours from their windows and upserts them;
// unchanged bands are not rewritten.
const refreshBaselinesSQL = `
		WITH hours AS (
		    SELECT * FROM unnest($2::timestamptz[], $3::timestamptz[], $4::smallint[])
		        AS h(hour_start, hour_end, hour_of_week)
		), windows AS (
		    SELECT * FROM unnest($5::timestamptz[], $6::int[], $7::timestamptz[], $8::timestamptz[])
		        AS w(hour_start, k, span_from, span_to)
		), vals AS (
		    -- LATERAL with OFFSET 0 keeps one index range scan per window; as a plain join the
		    -- planner reads every sample of the SLI once per window.
		    SELECT w.hour_start, w.k, s.value
		    FROM windows w
		    CROSS JOIN LATERAL (
		        SELECT value FROM sli_samples
		        WHERE sli_id = $1 AND at >= w.span_from AND at < w.span_to AND value IS NOT NULL
		        OFFSET 0
		    ) s
		), agg AS (
		    SELECT h.hour_start, h.hour_end, h.hour_of_week,
		           count(v.value) AS samples,
		           count(DISTINCT v.k) AS weeks,
		           percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value) AS median,
		           percentile_cont($9::float8) WITHIN GROUP (ORDER BY v.value) AS low,
		           percentile_cont($10::float8) WITHIN GROUP (ORDER BY v.value) AS high
		    FROM hours h
		    LEFT JOIN vals v ON v.hour_start = h.hour_start
		    GROUP BY h.hour_start, h.hour_end, h.hour_of_week
		)
		INSERT INTO sli_baselines (sli_id, hour_start, hour_end, hour_of_week, samples, weeks, median, low, high)
		SELECT $1, hour_start, hour_end, hour_of_week, samples, weeks,
		       CASE WHEN enough THEN median END,
		       CASE WHEN enough THEN low END,
		       CASE WHEN enough THEN high END
		FROM (SELECT *, samples > 0 AND samples >= $11 AND weeks >= $12 AS enough FROM agg) a
		ON CONFLICT (sli_id, hour_start) DO UPDATE SET
		    hour_end = EXCLUDED.hour_end, hour_of_week = EXCLUDED.hour_of_week,
		    samples = EXCLUDED.samples, weeks = EXCLUDED.weeks,
		    median = EXCLUDED.median, low = EXCLUDED.low, high = EXCLUDED.high
		WHERE (sli_baselines.samples, sli_baselines.weeks, sli_baselines.median, sli_baselines.low, sli_baselines.high)
		      IS DISTINCT FROM (EXCLUDED.samples, EXCLUDED.weeks, EXCLUDED.median, EXCLUDED.low, EXCLUDED.high)`

// refreshBaselines recomputes the baselines of the hour occurrences starting at hours with
// Postgres's percentile_cont: the windows (the same local hour in each earlier week) are worked
// out in Go, where time zones are easy, and the quantiles in SQL, where the samples are. It matches
// review.BaselineAt (a test checks).
func refreshBaselines(ctx context.Context, tx *sqlx.Tx, id int64, hours []time.Time, job BaselineJob) error {
	// The planner overestimates the windows a hundredfold and JIT-compiles the statement: that costs
	// ten times what running it does.
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("turning JIT off: %w", err)
	}
	for len(hours) > 0 {
		n := min(len(hours), baselineBatch)
		if err := refreshBaselineBatch(ctx, tx, id, hours[:n], job); err != nil {
			return err
		}
		hours = hours[n:]
	}
	return nil
}

func refreshBaselineBatch(ctx context.Context, tx *sqlx.Tx, id int64, hours []time.Time, job BaselineJob) error {
	var (
		hStart, hEnd []string
		hWeek        []int64
		wHour        []string
		wK           []int64
		wFrom, wTo   []string
	)
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	for _, h := range hours {
		span := review.HourSpan(h, job.Loc)
		hStart, hEnd = append(hStart, f(span.From)), append(hEnd, f(span.To))
		hWeek = append(hWeek, int64(review.HourOfWeek(h, job.Loc)))
		for i, w := range review.BaselineWindows(span.From, job.Spec.Weeks, job.Loc) {
			if w.From.IsZero() {
				continue
			}
			wHour, wK = append(wHour, f(span.From)), append(wK, int64(i+1))
			wFrom, wTo = append(wFrom, f(w.From)), append(wTo, f(w.To))
		}
	}
	_, err := tx.ExecContext(ctx, refreshBaselinesSQL,
		id, pq.Array(hStart), pq.Array(hEnd), pq.Array(hWeek),
		pq.Array(wHour), pq.Array(wK), pq.Array(wFrom), pq.Array(wTo),
		job.Spec.Low, job.Spec.High, job.Spec.MinSamples, job.Spec.MinWeeks)
	if err != nil {
		return fmt.Errorf("recomputing %d baselines: %w", len(hours), err)
	}
	return nil
}

// rebuildBaselines recomputes every baseline the SLI's stored samples feed, after the baseline
// parameters changed.
func rebuildBaselines(ctx context.Context, tx *sqlx.Tx, id int64, job BaselineJob) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sli_baselines WHERE sli_id = $1`, id); err != nil {
		return fmt.Errorf("clearing baselines: %w", err)
	}
	var first, last sql.NullTime
	if err := tx.QueryRowxContext(ctx, `
		SELECT min(at), max(at) FROM sli_samples WHERE sli_id = $1 AND value IS NOT NULL`, id).Scan(&first, &last); err != nil {
		return fmt.Errorf("reading the sample range: %w", err)
	}
	if !first.Valid {
		return nil
	}
	return refreshBaselines(ctx, tx, id, review.AffectedHours(first.Time, last.Time, job.Spec.Weeks, job.Loc), job)
}

// RebuildBaselines recomputes every baseline of the SLI from its stored samples.
func (s *Store) RebuildBaselines(ctx context.Context, id int64, job BaselineJob) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return rebuildBaselines(ctx, tx, id, job) })
}

// SLISeries is one SLI's samples over a window with the band of each sample's hour, and the bands
// of every hour of the window that has one.
type SLISeries struct {
	Points []review.Point
	Bands  []review.Band
	Ends   []time.Time // Ends[i] is the end of Bands[i]'s hour
}

// BandAt returns the band of the hour that contains t, or an empty band.
func (s SLISeries) BandAt(t time.Time) review.Band {
	for i, b := range s.Bands {
		if !t.Before(b.HourStart) && t.Before(s.Ends[i]) {
			return b
		}
	}
	return review.Band{}
}

// SLISeries reads the samples (gaps included) and bands of the named SLIs over [from, to], by
// name, in two statements however many SLIs are asked for. An SLI with no stored rows is absent.
//
// A page over every SLI reads a few hundred thousand samples: they are scanned by hand, each row
// an SLI's index in names and the time as Unix seconds (a number is much cheaper to decode than a
// timestamp's text), without the reflection of sqlx, and arrive in each SLI's index order.
func (s *Store) SLISeries(ctx context.Context, names []string, from, to time.Time) (map[string]*SLISeries, error) {
	return s.sliSeries(ctx, names, from, to, true)
}

// SLIBands reads what SLISeries does without the samples: the bands of every hour of [from, to]
// that has one (Points is empty). A week of every SLI's bands is 84,000 rows, its samples a million.
func (s *Store) SLIBands(ctx context.Context, names []string, from, to time.Time) (map[string]*SLISeries, error) {
	return s.sliSeries(ctx, names, from, to, false)
}

func (s *Store) sliSeries(ctx context.Context, names []string, from, to time.Time, samples bool) (map[string]*SLISeries, error) {
	out := map[string]*SLISeries{}
	get := func(i int64) *SLISeries {
		name := names[i-1]
		if out[name] == nil {
			out[name] = &SLISeries{}
		}
		return out[name]
	}
	err := s.readTx(ctx, func(tx *sqlx.Tx) error {
		// One index range scan per SLI (LATERAL, OFFSET 0): with hundreds of names the planner
		// would otherwise read the whole samples table.
		rows, err := tx.QueryContext(ctx, `
			SELECT n.i, date_part('epoch', b.hour_start), date_part('epoch', b.hour_end), b.hour_of_week,
			       b.samples, b.weeks, b.median, b.low, b.high
			FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
			JOIN slis l ON l.name = n.name
			CROSS JOIN LATERAL (
			    SELECT * FROM sli_baselines b
			    WHERE b.sli_id = l.id AND b.hour_end > $2 AND b.hour_start <= $3
			      -- an hour spans two at most (DST): this keeps the index range tight
			      AND b.hour_start > $2::timestamptz - interval '3 hours'
			    ORDER BY b.hour_start
			    OFFSET 0
			) b`, pq.Array(names), from, to)
		if err != nil {
			return fmt.Errorf("reading baselines: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				i              int64
				start, end     float64
				b              review.Band
				med, low, high sql.NullFloat64
			)
			if err := rows.Scan(&i, &start, &end, &b.HourOfWeek, &b.Samples, &b.Weeks, &med, &low, &high); err != nil {
				return fmt.Errorf("reading baselines: %w", err)
			}
			b.HourStart = unixTime(start)
			if med.Valid && low.Valid && high.Valid {
				b.Median, b.Low, b.High = &med.Float64, &low.Float64, &high.Float64
			}
			ser := get(i)
			ser.Bands = append(ser.Bands, b)
			ser.Ends = append(ser.Ends, unixTime(end))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading baselines: %w", err)
		}
		if !samples {
			return nil
		}
		// One row per SLI, its times and values as two arrays: per-row decoding is most of the
		// cost of reading a few hundred thousand samples.
		rows, err = tx.QueryContext(ctx, `
			SELECT n.i, a.ats, a.vals
			FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
			JOIN slis l ON l.name = n.name
			CROSS JOIN LATERAL (
			    SELECT array_agg(date_part('epoch', s.at)) AS ats, array_agg(s.value) AS vals
			    FROM (SELECT at, value FROM sli_samples s
			          WHERE s.sli_id = l.id AND s.at >= $2 AND s.at <= $3
			          ORDER BY s.at OFFSET 0) s
			) a
			WHERE a.ats IS NOT NULL`, pq.Array(names), from, to)
		if err != nil {
			return fmt.Errorf("reading samples: %w", err)
		}
		defer rows.Close()
		var (
			i         int64
			ats, vals sql.RawBytes
		)
		for rows.Next() {
			if err := rows.Scan(&i, &ats, &vals); err != nil {
				return fmt.Errorf("reading samples: %w", err)
			}
			ser := get(i)
			if err := eachFloat(ats, func(_ int, v float64, null bool) {
				ser.Points = append(ser.Points, review.Point{Sample: review.Sample{At: unixTime(v), Gap: true}})
			}); err != nil {
				return fmt.Errorf("reading sample times: %w", err)
			}
			if err := eachFloat(vals, func(k int, v float64, null bool) {
				if k < len(ser.Points) && !null {
					ser.Points[k].Value, ser.Points[k].Gap = v, false
				}
			}); err != nil {
				return fmt.Errorf("reading sample values: %w", err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading samples: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ser := range out {
		ser.sort()
		// Both lists are in time order: walk the bands alongside the samples.
		bi := 0
		for k := range ser.Points {
			p := &ser.Points[k]
			for bi < len(ser.Bands) && !p.At.Before(ser.Ends[bi]) {
				bi++
			}
			if bi < len(ser.Bands) && !p.At.Before(ser.Bands[bi].HourStart) {
				p.Band = ser.Bands[bi]
			}
		}
	}
	return out, nil
}

// Since returns the part of the series a read from from on would have given: the samples at or
// after from and the bands of the hours ending after it. The slices are shared, not copied.
func (s *SLISeries) Since(from time.Time) *SLISeries {
	p := sort.Search(len(s.Points), func(i int) bool { return !s.Points[i].At.Before(from) })
	b := sort.Search(len(s.Ends), func(i int) bool { return s.Ends[i].After(from) })
	return &SLISeries{Points: s.Points[p:], Bands: s.Bands[b:], Ends: s.Ends[b:]}
}

// sort puts the series in time order should the rows have come in another (the statements order
// each SLI's rows, but not the SLIs' interleaving: that costs a sort of every row).
func (s *SLISeries) sort() {
	if !sort.SliceIsSorted(s.Points, func(i, j int) bool { return s.Points[i].At.Before(s.Points[j].At) }) {
		sort.SliceStable(s.Points, func(i, j int) bool { return s.Points[i].At.Before(s.Points[j].At) })
	}
	less := func(i, j int) bool { return s.Bands[i].HourStart.Before(s.Bands[j].HourStart) }
	if !sort.SliceIsSorted(s.Bands, less) {
		idx := make([]int, len(s.Bands))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return s.Bands[idx[a]].HourStart.Before(s.Bands[idx[b]].HourStart) })
		bands, ends := make([]review.Band, len(idx)), make([]time.Time, len(idx))
		for k, i := range idx {
			bands[k], ends[k] = s.Bands[i], s.Ends[i]
		}
		s.Bands, s.Ends = bands, ends
	}
}

// eachFloat calls fn with each element of a Postgres float8[] in text form ({1.5,NULL,-2e-05}), in
// order.
func eachFloat(b []byte, fn func(k int, v float64, null bool)) error {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return fmt.Errorf("not a float array: %.40q", b)
	}
	b = b[1 : len(b)-1]
	for k := 0; len(b) > 0; k++ {
		j := bytes.IndexByte(b, ',')
		if j < 0 {
			j = len(b)
		}
		el := b[:j]
		if string(el) == "NULL" {
			fn(k, 0, true)
		} else {
			v, err := strconv.ParseFloat(string(el), 64)
			if err != nil {
				return fmt.Errorf("element %d: %w", k, err)
			}
			fn(k, v, false)
		}
		if j == len(b) {
			break
		}
		b = b[j+1:]
	}
	return nil
}

// unixTime turns date_part('epoch', t) back into t, in UTC, to the microsecond Postgres keeps.
func unixTime(sec float64) time.Time {
	whole := math.Floor(sec)
	return time.Unix(int64(whole), int64(math.Round((sec-whole)*1e6))*1e3).UTC()
}

// readTx runs fn in a read-only transaction on the read pool with JIT off: the planner's estimates
// for these range reads are pessimistic enough to JIT-compile them, which costs more than the read.
func (s *Store) readTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.read.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return classify(fmt.Errorf("turning JIT off: %w", err))
	}
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}
