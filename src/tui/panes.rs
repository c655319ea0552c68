//! The lines of the object panes: Gateways with their listeners, routes with their parents,
//! Services with their pods, problems and the event log. Health is shown as a coloured mark
//! and always as words (the reason), never by colour alone.

use super::render::{dim, health_style, mark};
use crate::runtime::events::EventKind;
use crate::view::{ConditionView, Health, ViewModel};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// The conditions worth a word: the unhealthy and unknown ones with their reasons, or the
/// condition that sums the object up when all are healthy.
fn condition_spans(conds: &[ConditionView], summary: &str) -> Vec<Span<'static>> {
    let bad: Vec<&ConditionView> = conds
        .iter()
        .filter(|c| c.health != Health::Healthy)
        .collect();
    if bad.is_empty() {
        return match conds.iter().find(|c| c.kind == summary) {
            Some(c) => vec![mark(c.health), Span::raw(format!(" {}", c.kind))],
            None if conds.is_empty() => vec![dim("no status")],
            None => vec![mark(Health::Healthy)],
        };
    }
    let mut spans = Vec::new();
    for c in bad {
        spans.push(mark(c.health));
        spans.push(Span::styled(
            format!(" {}={} {} ", c.kind, c.status, c.reason),
            health_style(c.health),
        ));
    }
    spans
}

/// Gateways: one line each, then one per listener with where it is declared and bound.
pub fn gateways(vm: &ViewModel, compact: bool) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for g in &vm.gateways {
        let mut spans = vec![
            Span::styled(
                g.name.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            dim(format!("  class {}  ", g.class)),
        ];
        spans.extend(condition_spans(&g.conditions, "Programmed"));
        if g.stale {
            spans.push(Span::styled(" stale", health_style(Health::Unknown)));
        }
        out.push(Line::from(spans));
        for l in &g.listeners {
            let mut spans = vec![Span::raw(format!(
                "  {} {} {}",
                l.name,
                l.protocol,
                l.hostname.as_deref().unwrap_or("*")
            ))];
            let place = match &l.bound {
                Some(b) if !compact || *b != l.declared => format!("  {} → {b}", l.declared),
                Some(_) => format!("  {}", l.declared),
                None => format!("  {} (not bound)", l.declared),
            };
            spans.push(Span::raw(place));
            spans.push(dim(format!("  routes {}  ", l.attached_routes)));
            spans.extend(condition_spans(&l.conditions, ""));
            out.push(Line::from(spans));
        }
    }
    if out.is_empty() {
        out.push(Line::from(dim("no Gateways")));
    }
    out
}

/// Routes: the selected one marked, each with its parents and their conditions.
pub fn routes(vm: &ViewModel) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for r in &vm.routes {
        let selected = vm.selected_route.as_deref() == Some(r.name.as_str());
        let name_style = if selected {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        };
        let mut spans = vec![
            Span::raw(if selected { "▶ " } else { "  " }),
            Span::styled(r.name.clone(), name_style),
            Span::raw(format!("  {}", r.hostnames.join(", "))),
        ];
        if r.stale {
            spans.push(Span::styled(
                "  stale: file does not parse",
                health_style(Health::Unknown),
            ));
        }
        out.push(Line::from(spans));
        if r.parents.is_empty() {
            out.push(Line::from(vec![
                Span::raw("    "),
                dim("no parent gwsim owns"),
            ]));
        }
        for p in &r.parents {
            let mut spans = vec![Span::raw(format!("    → {}  ", p.gateway))];
            if p.health == Health::Healthy {
                for c in &p.conditions {
                    spans.push(mark(c.health));
                    spans.push(Span::raw(format!(" {} ", c.kind)));
                }
            } else {
                spans.extend(condition_spans(&p.conditions, ""));
            }
            out.push(Line::from(spans));
        }
    }
    if out.is_empty() {
        out.push(Line::from(dim("no HTTPRoutes")));
    }
    out
}

/// Services with their ports and pods; pods by name unless compact.
pub fn services(vm: &ViewModel, compact: bool) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for s in &vm.services {
        let ports: Vec<String> = s.ports.iter().map(|p| format!(":{p}")).collect();
        let pods = if s.wanted == 0 && s.pods.is_empty() {
            "no pods selected".to_string()
        } else {
            format!("{}/{} pods running", s.pods.len(), s.wanted)
        };
        out.push(Line::from(vec![
            mark(s.health),
            Span::raw(format!(" {}  {}  ", s.name, ports.join(" "))),
            Span::styled(pods, health_style(s.health)),
        ]));
        if !compact {
            for p in &s.pods {
                out.push(Line::from(vec![
                    Span::raw(format!("    {}", p.name)),
                    dim(format!("  {}", p.addrs.join(" "))),
                ]));
            }
        }
    }
    if out.is_empty() {
        out.push(Line::from(dim("no Services")));
    }
    out
}

/// Problems: what, where (file:line), and why in words.
pub fn problems(vm: &ViewModel) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if let Some(hint) = &vm.empty_hint {
        out.push(Line::from(Span::styled(
            hint.clone(),
            health_style(Health::Unknown),
        )));
    }
    for p in &vm.problems {
        let style = health_style(p.health);
        let mut head = vec![mark(p.health)];
        if let Some(o) = &p.object {
            head.push(Span::styled(
                format!(" {o}"),
                Style::default().add_modifier(Modifier::BOLD),
            ));
        }
        if let Some(place) = &p.place {
            head.push(dim(format!(" {place}")));
        }
        if let Some(c) = &p.condition {
            head.push(Span::styled(format!(" {c}"), style));
        }
        if let Some(r) = &p.reason {
            head.push(Span::styled(format!(" {r}"), style));
        }
        if let Some(l) = &p.location {
            head.push(dim(format!("  {l}")));
        }
        out.push(Line::from(head));
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::raw(p.message.clone()),
        ]));
    }
    out
}

/// The event log, oldest first.
pub fn events(vm: &ViewModel) -> Vec<Line<'static>> {
    vm.events
        .iter()
        .map(|e| {
            let style = match e.kind {
                EventKind::Problem => health_style(Health::Unhealthy),
                _ => Style::default(),
            };
            Line::from(vec![
                dim(format!("{} ", e.clock)),
                Span::styled(e.message.clone(), style),
            ])
        })
        .collect()
}
