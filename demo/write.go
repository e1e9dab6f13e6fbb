package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// write stores a plan through the store's own write paths, in the order real data arrives: rules,
// silences, alert history, the team's decisions, then SLI samples with their baselines. Every step is idempotent for the same plan.
func write(ctx context.Context, st *store.Store, cfg *config.Config, p plan, sum *Summary) error {
	anchor := sum.Anchor
	if err := writeRules(ctx, st, p, sum); err != nil {
		return err
	}
	if err := st.UpsertSilences(ctx, amSource, p.silences); err != nil {
		return fmt.Errorf("silences: %w", err)
	}
	sum.Silences = len(p.silences)
	if err := st.IngestAlerts(ctx, p.reports, nil); err != nil {
		return fmt.Errorf("alert history: %w", err)
	}
	sum.Reports = len(p.reports)
	if err := writeNotifications(ctx, st, cfg, p.notifications, sum); err != nil {
		return err
	}
	for _, c := range p.changes {
		if _, _, err := st.AddChange(ctx, c); err != nil {
			return fmt.Errorf("change %q: %w", c.Summary, err)
		}
	}
	sum.Changes = len(p.changes)
	for _, e := range p.toil {
		if _, _, err := st.AddToilEntry(ctx, e); err != nil {
			return fmt.Errorf("toil entry: %w", err)
		}
	}
	sum.ToilEntries = len(p.toil)
	for _, v := range p.verdicts {
		if _, err := st.SaveVerdict(ctx, v); err != nil {
			return fmt.Errorf("verdict on %s in %s: %w", v.Alertname, v.Week, err)
		}
	}
	sum.Verdicts = len(p.verdicts)
	for _, a := range p.actions {
		item, _, err := st.AddActionItem(ctx, a.item, a.key)
		if err != nil {
			return fmt.Errorf("action item: %w", err)
		}
		// Closing is not idempotent (it bumps the version): close only what is still open.
		if a.closeAt != nil && item.Open() {
			if _, err := st.UpdateActionItem(ctx, item.ID, store.ActionItemChange{Close: true, By: a.closeBy, At: *a.closeAt}); err != nil {
				return fmt.Errorf("closing action item %d: %w", item.ID, err)
			}
		}
	}
	sum.ActionItems = len(p.actions)
	for _, c := range p.checks {
		if err := st.RecordRunbookCheck(ctx, c); err != nil {
			return fmt.Errorf("runbook check: %w", err)
		}
	}
	sum.RunbookChecks = len(p.checks)
	q := store.RunbookQuery{Annotations: cfg.Runbooks.Annotations, Ignore: cfg.Alerts.Ignore,
		From: anchor.Add(-history), To: anchor}
	for _, r := range p.reviews {
		if _, err := st.MarkRunbookReviewed(ctx, q, r.url, r.who, r.at); err != nil {
			return fmt.Errorf("runbook review: %w", err)
		}
	}
	if err := writeSLIs(ctx, st, cfg, p.slis, sum); err != nil {
		return err
	}
	for _, r := range p.runs {
		if err := st.RecordCollectorRun(ctx, r.source, r.kind, r.at, nil); err != nil {
			return fmt.Errorf("collector run: %w", err)
		}
	}
	counts, err := st.CountNotifications(ctx)
	if err != nil {
		return err
	}
	sum.Episodes = int(counts.Episodes)
	return nil
}

// writeRules stores the rule inventory as the rules collector would have seen it: the older
// version at the start of the history and the current one since the change. The history is
// written once (a rule's versions are not idempotent); the current inventory every time.
func writeRules(ctx context.Context, st *store.Store, p plan, sum *Summary) error {
	have, err := st.AlertRules(ctx, store.RuleFilter{Source: promSource})
	if err != nil {
		return fmt.Errorf("reading demo rules: %w", err)
	}
	if len(have) == 0 {
		if err := st.UpsertRules(ctx, promSource, p.rulesBefore, sum.Anchor.Add(-history)); err != nil {
			return fmt.Errorf("rules: %w", err)
		}
		if err := st.UpsertRules(ctx, promSource, p.rules, p.rulesChangedAt); err != nil {
			return fmt.Errorf("rules: %w", err)
		}
	}
	if err := st.UpsertRules(ctx, promSource, p.rules, sum.Anchor); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	sum.Rules = len(p.rules)
	return nil
}

// writeNotifications delivers the webhook notifications in the order they were received, each alert
// instance's (fingerprint's) in parallel with the others': they never share an episode, and one
// transaction per delivery is slow enough to make a first run wait.
func writeNotifications(ctx context.Context, st *store.Store, cfg *config.Config, ns []store.Notification, sum *Summary) error {
	byRule := map[uint64][]store.Notification{}
	var order []uint64
	for _, n := range ns {
		name := n.Alerts[0].Fingerprint // the demo sends one alert per notification
		if _, ok := byRule[name]; !ok {
			order = append(order, name)
		}
		byRule[name] = append(byRule[name], n)
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for _, name := range order {
		wg.Add(1)
		go func(ns []store.Notification) {
			defer wg.Done()
			var stored, pages int
			for _, n := range ns {
				res, err := st.IngestNotification(ctx, n)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("notification to %s at %s: %w", n.Receiver, n.ReceivedAt.Format("2006-01-02 15:04"), err))
					mu.Unlock()
					return
				}
				if !res.Duplicate {
					stored++
					if res.NewEpisodes > 0 && cfg.IsPaging(n.Receiver) {
						pages++
					}
				}
			}
			mu.Lock()
			sum.Notifications += stored
			sum.Pages += pages
			mu.Unlock()
		}(byRule[name])
	}
	wg.Wait()
	return errors.Join(errs...)
}
