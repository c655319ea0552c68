//! Drawing the whole dashboard from a [`ViewModel`]: a pure function into a buffer, so the
//! snapshot tests see exactly what a terminal would. Panes sit side by side on wide
//! terminals and stack on narrow ones (readable at 80×24), with the header, the key footer
//! and the help and details overlays around them.

use super::{panes, traffic};
use crate::view::{Health, Overlay, ViewModel};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

/// Below this width the panes stack in one column.
pub const WIDE: u16 = 110;

/// The colour of a health: green, red, or yellow for Unknown and stale.
pub fn health_style(h: Health) -> Style {
    Style::default().fg(match h {
        Health::Healthy => Color::Green,
        Health::Unknown => Color::Yellow,
        Health::Unhealthy => Color::Red,
    })
}

/// A health mark, coloured.
pub fn mark(h: Health) -> Span<'static> {
    Span::styled(h.mark(), health_style(h))
}

/// Dim text for labels.
pub fn dim(text: impl Into<String>) -> Span<'static> {
    Span::styled(text.into(), Style::default().fg(Color::DarkGray))
}

impl Widget for &ViewModel {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [top, body, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(area);
        Paragraph::new(header(self)).render(top, buf);
        Paragraph::new(footer(self, area.width)).render(bottom, buf);
        if area.width >= WIDE {
            wide(self, body, buf);
        } else {
            narrow(self, body, buf);
        }
        if let Some(d) = &self.details {
            let lines: Vec<Line> = d.yaml.lines().map(|l| Line::raw(l.to_string())).collect();
            Clear.render(body, buf);
            pane(
                &format!("{} · {} (enter closes)", d.title, d.origin),
                lines,
                body,
                buf,
            );
        } else if self.overlay == Overlay::Help {
            help(body, buf);
        }
    }
}

/// The panes a layout places, with their wanted heights.
struct Panes {
    gateways: Vec<Line<'static>>,
    routes: Vec<Line<'static>>,
    services: Vec<Line<'static>>,
    traffic: Vec<Line<'static>>,
    problems: Vec<Line<'static>>,
    events: Vec<Line<'static>>,
}

fn panes_for(vm: &ViewModel, left: u16, right: u16, compact: bool) -> Panes {
    let (left, right) = (left.saturating_sub(2), right.saturating_sub(2));
    Panes {
        gateways: wrap(panes::gateways(vm, compact), left),
        routes: wrap(panes::routes(vm), left),
        services: wrap(panes::services(vm, compact), left),
        traffic: wrap(traffic::lines(vm, right), right),
        problems: wrap(panes::problems(vm), right),
        events: wrap(panes::events(vm), right),
    }
}

/// Word-wraps lines to `width` columns, keeping each word's style; continuation lines are
/// indented so they read as part of the line above.
pub fn wrap(lines: Vec<Line<'static>>, width: u16) -> Vec<Line<'static>> {
    const INDENT: &str = "      ";
    let width = usize::from(width);
    let mut out = Vec::new();
    for line in lines {
        if line.width() <= width || width <= INDENT.len() + 8 {
            out.push(line);
            continue;
        }
        let mut current: Vec<Span<'static>> = Vec::new();
        let mut used = 0usize;
        for span in line.spans {
            for word in span.content.split_inclusive(' ') {
                let w = word.chars().count();
                if used + w > width && used > INDENT.len() {
                    out.push(Line::from(std::mem::take(&mut current)));
                    current.push(Span::raw(INDENT));
                    used = INDENT.len();
                }
                current.push(Span::styled(word.to_string(), span.style));
                used += w;
            }
        }
        out.push(Line::from(current));
    }
    out
}

fn wide(vm: &ViewModel, body: Rect, buf: &mut Buffer) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    let p = panes_for(vm, left.width, right.width, false);
    let left_heights = allocate(
        left.height,
        &[want(&p.gateways, 3), want(&p.routes, 3), (3, u16::MAX)],
    );
    let areas = split(left, &left_heights);
    pane("Gateways", p.gateways, areas[0], buf);
    pane("Routes  ↑↓", p.routes, areas[1], buf);
    pane("Services → pods", p.services, areas[2], buf);

    let problems = if p.problems.is_empty() {
        (0, 0)
    } else {
        want(&p.problems, 3)
    };
    let right_heights = allocate(
        right.height,
        &[want(&p.traffic, 4), problems, (4, u16::MAX)],
    );
    let areas = split(right, &right_heights);
    pane(&traffic_title(vm), p.traffic, areas[0], buf);
    pane("Problems", p.problems, areas[1], buf);
    events_pane(p.events, areas[2], buf);
}

fn narrow(vm: &ViewModel, body: Rect, buf: &mut Buffer) {
    let p = panes_for(vm, body.width, body.width, true);
    let problems = if p.problems.is_empty() {
        (0, 0)
    } else {
        want(&p.problems, 3)
    };
    // Minimums first, in this order; spare rows go to the panes in the same order, so the
    // traffic pane grows before the event log and Services show only when there is room.
    let heights = allocate(
        body.height,
        &[
            want(&p.gateways, 3),
            want(&p.routes, 3),
            want(&p.traffic, 4),
            problems,
            (3, u16::MAX),
        ],
    );
    let mut rects = split(body, &heights);
    let events_rect = rects.pop().unwrap_or_default();
    pane("Gateways", p.gateways, rects[0], buf);
    pane("Routes  ↑↓", p.routes, rects[1], buf);
    pane(&traffic_title(vm), p.traffic, rects[2], buf);
    pane("Problems", p.problems, rects[3], buf);
    // The event log shrinks first; with room to spare, Services take its upper part.
    let services_h = (p.services.len() as u16 + 2).min(events_rect.height.saturating_sub(6));
    if services_h >= 3 {
        let [s, e] = Layout::vertical([Constraint::Length(services_h), Constraint::Min(0)])
            .areas(events_rect);
        pane("Services → pods", p.services, s, buf);
        events_pane(p.events, e, buf);
    } else {
        events_pane(p.events, events_rect, buf);
    }
}

fn traffic_title(vm: &ViewModel) -> String {
    match &vm.traffic {
        Some(t) => format!("Traffic: {}", t.route),
        None => "Traffic".to_string(),
    }
}

/// (minimum, wanted) height of a boxed pane of `lines`.
fn want(lines: &[Line], min: u16) -> (u16, u16) {
    let h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    (min.min(h), h)
}

/// Gives each pane its minimum, then the spare rows in order up to each one's want; the last
/// pane takes whatever remains.
fn allocate(total: u16, wants: &[(u16, u16)]) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::with_capacity(wants.len());
    let mut left = total;
    for (min, _) in wants {
        let h = (*min).min(left);
        out.push(h);
        left -= h;
    }
    for (slot, (_, want)) in out.iter_mut().zip(wants) {
        let extra = want.saturating_sub(*slot).min(left);
        *slot += extra;
        left -= extra;
    }
    if let Some(last) = out.last_mut() {
        *last += left;
    }
    out
}

fn split(area: Rect, heights: &[u16]) -> Vec<Rect> {
    let mut y = area.y;
    heights
        .iter()
        .map(|h| {
            let r = Rect::new(
                area.x,
                y,
                area.width,
                (*h).min(area.bottom().saturating_sub(y)),
            );
            y = y.saturating_add(*h);
            r
        })
        .collect()
}

/// A bordered pane; lines past its height are cut.
pub fn pane(title: &str, lines: Vec<Line<'static>>, area: Rect, buf: &mut Buffer) {
    if area.height < 2 {
        return;
    }
    let block = Block::bordered()
        .border_style(Style::default().fg(Color::DarkGray))
        .title(Span::styled(
            format!(" {title} "),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    Paragraph::new(lines).block(block).render(area, buf);
}

/// The event log shows its newest lines.
fn events_pane(lines: Vec<Line<'static>>, area: Rect, buf: &mut Buffer) {
    let room = usize::from(area.height.saturating_sub(2));
    let skip = lines.len().saturating_sub(room);
    pane("Events", lines.into_iter().skip(skip).collect(), area, buf);
}

fn header(vm: &ViewModel) -> Line<'static> {
    let h = &vm.header;
    let gw_health = if h.gateways_programmed == h.gateways {
        Health::Healthy
    } else {
        Health::Unhealthy
    };
    let route_health = if h.routes_unhealthy == 0 {
        Health::Healthy
    } else {
        Health::Unhealthy
    };
    let routes = if h.routes_unhealthy == 0 {
        format!(" {}/{} routes healthy ", h.routes, h.routes)
    } else {
        format!(" {} of {} routes unhealthy ", h.routes_unhealthy, h.routes)
    };
    let mut spans = vec![
        Span::styled(" gwsim", Style::default().add_modifier(Modifier::BOLD)),
        dim(format!(" seed {} ", h.seed)),
        Span::raw(format!(
            " reload #{}{} ",
            h.generation,
            h.reload_ms
                .map(|ms| format!(" {ms:.1}ms"))
                .unwrap_or_default()
        )),
        Span::raw(" "),
        mark(gw_health),
        Span::raw(format!(
            " {}/{} gateways programmed ",
            h.gateways_programmed, h.gateways
        )),
        Span::raw(" "),
        mark(route_health),
        Span::raw(routes),
    ];
    if h.errors + h.warnings > 0 {
        spans.push(Span::styled(
            format!(" {} errors, {} warnings ", h.errors, h.warnings),
            health_style(if h.errors > 0 {
                Health::Unhealthy
            } else {
                Health::Unknown
            }),
        ));
    }
    // Last, so a narrow terminal cuts the folder rather than the health.
    spans.push(Span::raw(format!(" {}", h.dir)));
    Line::from(spans)
}

fn footer(vm: &ViewModel, width: u16) -> Line<'static> {
    let g = &vm.generator;
    let key = |k: &str| Span::styled(k.to_string(), Style::default().add_modifier(Modifier::BOLD));
    let traffic = match (&g.target, g.running) {
        (Some(t), true) => format!(
            " traffic {}/s → {}{} [on] {} sent{}  ",
            g.rate,
            t.host,
            t.path,
            traffic::thousands(g.sent),
            if g.failed > 0 {
                format!(", {} failed", traffic::thousands(g.failed))
            } else {
                String::new()
            }
        ),
        _ => format!(" traffic {}/s [off]  ", g.rate),
    };
    let full = Line::from(vec![
        Span::raw(" "),
        key("↑↓"),
        Span::raw(" select  "),
        key("enter"),
        Span::raw(" details  "),
        key("t"),
        Span::raw(traffic.clone()),
        key("+-"),
        Span::raw(" rate  "),
        key("r"),
        Span::raw(" reset  "),
        key("?"),
        Span::raw(" help  "),
        key("q"),
        Span::raw(" quit"),
    ]);
    if full.width() <= usize::from(width) {
        return full;
    }
    // Narrow: the traffic state and quit stay; the rest is one `?` away.
    Line::from(vec![
        Span::raw(" "),
        key("t"),
        Span::raw(traffic),
        key("?"),
        Span::raw(" keys  "),
        key("q"),
        Span::raw(" quit"),
    ])
}

fn help(body: Rect, buf: &mut Buffer) {
    let rows = [
        ("↑ ↓  k j", "select a route: the traffic pane follows it"),
        (
            "enter",
            "the selected route as YAML, with its status and file:line",
        ),
        (
            "t",
            "start or stop the traffic generator on the selected route",
        ),
        ("+ -", "raise or lower the generator's rate"),
        ("r", "reset every counter"),
        ("?", "this help (esc closes)"),
        ("q  ctrl-c", "quit: stops traffic, listeners and pods"),
    ];
    let mut lines: Vec<Line<'static>> = rows
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<10}"),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw((*what).to_string()),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::raw(" Colours: "),
        Span::styled("healthy", health_style(Health::Healthy)),
        Span::raw(", "),
        Span::styled("unhealthy", health_style(Health::Unhealthy)),
        Span::raw(", "),
        Span::styled("unknown or stale", health_style(Health::Unknown)),
        Span::raw(" (Conflicted=False is healthy)"),
    ]));
    let width = body.width.min(78);
    let height = body.height.min(u16::try_from(lines.len()).unwrap_or(0) + 2);
    let area = Rect::new(
        body.x + (body.width - width) / 2,
        body.y + (body.height - height) / 2,
        width,
        height,
    );
    Clear.render(area, buf);
    pane("Keys", lines, area, buf);
}
