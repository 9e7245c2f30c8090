/*!
The app: events in, state changes and actions out.

[`App::handle`] is the only place that changes [`AppState`]. It never blocks and does no I/O:
what needs the outside world (sending a query to the query thread, writing a CSV export,
quitting) comes back as an [`Action`] for the run loop to carry out. That keeps every key
press, mouse click and worker message testable without a terminal.
*/
use crossterm::event::{
    KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use image::DynamicImage;
use ratatui::layout::{Position, Rect};
use ratatui_image::protocol::Protocol;
use ratatui_image::protocol::halfblocks::Halfblocks;

pub use super::event::{Action, Event};
use super::event::{QueryKind, QueryRequest, Update};
use super::keys::{Command, command_for};
use super::layout::THUMB_CELLS;
use super::state::{
    AppState, ChooserKind, GalleryEntry, InputMode, JobState, JobStatus, OverviewTable,
    RetrievalMode, SaliencyPane, Tab, Thumb, Thumbs,
};
use super::{tabs, view};
use crate::eval::MetricRow;
use choose::default_pair;

mod choose;
mod replies;

/// The app: its state and nothing else.
#[derive(Debug)]
pub struct App {
    pub state: AppState,
}

impl App {
    pub fn new(state: AppState) -> App {
        App { state }
    }

    /// Applies one event; returns what the loop must do next.
    pub fn handle(&mut self, event: Event) -> Action {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Key(_) => Action::None,
            Event::Mouse(m) => self.on_mouse(m),
            Event::Resize(w, h) => {
                self.state.size = (w, h);
                self.rebuild_opened();
                Action::None
            }
            Event::Tick(now) => {
                self.state.tick(now);
                Action::None
            }
            Event::JobQueued { job } => {
                self.job(&job).state = JobState::Running;
                Action::None
            }
            Event::Progress { job, done, total } => {
                let j = self.job(&job);
                j.done = done;
                j.total = total;
                Action::None
            }
            Event::JobFinished { job, error } => {
                if let Some(e) = &error {
                    self.state.say(format!("{job} failed: {e}"));
                    self.state.families_running.clear();
                }
                self.job(&job).state = match error {
                    None => JobState::Done,
                    Some(e) => JobState::Failed(e),
                };
                Action::None
            }
            Event::Update(u) => self.on_update(u),
            Event::Reply(r) => {
                self.on_reply(r);
                Action::None
            }
            Event::Saliency(r) => {
                // Kept only if it answers what the opened image still waits for.
                if let Some(o) = self.state.zeroshot.opened.as_mut()
                    && o.saliency == SaliencyPane::Pending(r.id)
                {
                    o.saliency = match r.result {
                        Ok(v) => SaliencyPane::Ready(Box::new(v)),
                        Err(e) => SaliencyPane::Failed(e),
                    };
                }
                Action::None
            }
            Event::Compared(r) => self.on_compared(r),
            Event::Exported(r) => {
                self.state.say(match r {
                    Ok(p) => format!("exported {}", p.display()),
                    Err(e) => format!("export failed: {e}"),
                });
                Action::None
            }
        }
    }

    fn job(&mut self, name: &str) -> &mut JobStatus {
        let jobs = &mut self.state.jobs;
        let i = match jobs.iter().position(|j| j.name == name) {
            Some(i) => i,
            None => {
                jobs.push(JobStatus {
                    name: name.to_string(),
                    done: 0,
                    total: 0,
                    state: JobState::Running,
                });
                jobs.len() - 1
            }
        };
        &mut jobs[i]
    }

    fn on_update(&mut self, update: Update) -> Action {
        let s = &mut self.state;
        match update {
            Update::Header(h) => {
                let (dataset, split) = (s.header.dataset.clone(), s.header.split.clone());
                s.header = h;
                if !s.datasets.is_empty() {
                    (s.header.dataset, s.header.split) = (dataset, split);
                }
                s.overview = OverviewTable::from_rows(&s.header.models, &s.rows);
            }
            Update::Metrics(rows) => {
                s.families_running.clear();
                merge_rows(&mut s.rows, rows);
                s.overview = OverviewTable::from_rows(&s.header.models, &s.rows);
                default_pair(s);
            }
            Update::FamilyDone { rows, running } => {
                merge_rows(&mut s.rows, rows);
                s.overview = OverviewTable::from_rows(&s.header.models, &s.rows);
                s.families_running = running;
                default_pair(s);
            }
            Update::Plots(p) => {
                s.plots_all.retain(|x| x.dataset != p.dataset);
                s.plots_all.push(p);
            }
            Update::Rag(r) => {
                s.rag_all.retain(|x| x.dataset != r.dataset);
                s.rag_all.push(r);
            }
            Update::Problems(list) => {
                let mut seen: std::collections::HashSet<_> =
                    s.problems.list.iter().cloned().collect();
                for p in list {
                    if seen.insert(p.clone()) {
                        s.problems.list.push(p);
                    }
                }
            }
            Update::Gallery(g, thumbs) => {
                let thumbs = Thumbs(
                    thumbs
                        .iter()
                        .map(|t| t.as_ref().and_then(thumb_protocol))
                        .collect(),
                );
                s.galleries
                    .retain(|e| !(e.gallery.dataset == g.dataset && e.gallery.split == g.split));
                s.galleries.push(GalleryEntry {
                    gallery: g,
                    thumbs: std::sync::Arc::new(thumbs),
                });
            }
        }
        self.reselect()
    }

    /// Applies the chosen dataset, split and pair to what every tab shows.
    fn reselect(&mut self) -> Action {
        let changed = tabs::select(&mut self.state);
        tabs::refresh(&mut self.state);
        match changed {
            Some(g) => Action::ShareGallery(g),
            None => Action::None,
        }
    }

    fn query(&mut self, kind: QueryKind, retrieval: bool) -> Action {
        let id = self.state.next_query;
        self.state.next_query += 1;
        if retrieval {
            self.state.retrieval.pending = Some(id);
        } else {
            self.state.zeroshot.pending = Some(id);
        }
        Action::Query(QueryRequest {
            id,
            kind,
            k: self.state.k,
        })
    }

    fn on_key(&mut self, key: KeyEvent) -> Action {
        let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL)
            && key.code == crossterm::event::KeyCode::Char('c');
        if self.state.mode == InputMode::Editing && !ctrl_c {
            return self.on_edit_key(key);
        }
        if self.state.chooser.is_some() && !ctrl_c {
            return self.on_chooser_key(key);
        }
        match command_for(&key, self.state.tab) {
            Some(c) => self.on_command(c),
            None => Action::None,
        }
    }

    fn on_edit_key(&mut self, key: KeyEvent) -> Action {
        use crossterm::event::KeyCode;
        let tab = self.state.tab;
        if tab == Tab::Overview {
            // The metric filter applies as it is typed.
            let filter = &mut self.state.overview_tab.filter;
            match key.code {
                KeyCode::Esc => {
                    filter.clear();
                    self.state.mode = InputMode::Normal;
                }
                KeyCode::Enter => self.state.mode = InputMode::Normal,
                KeyCode::Backspace => {
                    filter.pop();
                }
                KeyCode::Char(c) => filter.push(c),
                _ => return Action::None,
            }
            tabs::refresh(&mut self.state);
            return Action::None;
        }
        let buffer = match tab {
            Tab::Retrieval => &mut self.state.retrieval.query,
            _ => &mut self.state.zeroshot.prompt,
        };
        match key.code {
            KeyCode::Esc => self.state.mode = InputMode::Normal,
            KeyCode::Backspace => {
                buffer.pop();
            }
            KeyCode::Char(c) => buffer.push(c),
            KeyCode::Enter => {
                self.state.mode = InputMode::Normal;
                let text = buffer.trim().to_string();
                if text.is_empty() {
                    return Action::None;
                }
                if tab == Tab::Retrieval {
                    self.state.retrieval.truth = None;
                    self.state.retrieval.opened = None;
                    return self.query(QueryKind::PromptToImages(text), true);
                }
                self.state.zeroshot.class = None;
                self.state.zeroshot.query_label = format!("prompt: {text}");
                return self.query(QueryKind::PromptToImages(text), false);
            }
            _ => {}
        }
        Action::None
    }

    fn on_command(&mut self, c: Command) -> Action {
        let s = &mut self.state;
        if s.help && !matches!(c, Command::Help | Command::Back | Command::Quit) {
            return Action::None;
        }
        let page = self.page();
        if let Some(action) = super::report_text::on_command(&mut self.state, c, page) {
            return action;
        }
        if let Some(action) = self.on_problems_command(c) {
            return action;
        }
        let s = &mut self.state;
        match c {
            Command::Quit => {
                s.running = false;
                return Action::Quit;
            }
            Command::Help => s.help = !s.help,
            Command::Back => self.back(),
            Command::ChooseDataset => self.open_chooser(ChooserKind::Dataset),
            Command::ChooseSplit => self.open_chooser(ChooserKind::Split),
            Command::ChooseBaseline => self.open_chooser(ChooserKind::Baseline),
            Command::ChooseCandidate => self.open_chooser(ChooserKind::Candidate),
            Command::CycleSort => {
                s.overview_tab.sort = s.overview_tab.sort.next();
                tabs::refresh(s);
            }
            Command::ToggleSignificant => {
                s.overview_tab.significant_only = !s.overview_tab.significant_only;
                tabs::refresh(s);
            }
            Command::NextTab => s.tab = s.tab.next(),
            Command::PrevTab => s.tab = s.tab.prev(),
            Command::GoTab(i) => s.tab = Tab::ALL[i.min(Tab::ALL.len() - 1)],
            Command::Export => return Action::Export(s.tab),
            Command::Search => {
                s.mode = InputMode::Editing;
                if s.tab == Tab::Retrieval {
                    s.retrieval.mode = RetrievalMode::TextToImage;
                    s.retrieval.opened = None;
                }
            }
            Command::ToggleDirection => return self.toggle_direction(),
            Command::PrevClass | Command::NextClass => return self.cycle_class(c),
            Command::Open => return self.open(),
            Command::ToggleHeatmap => match s.zeroshot.opened.as_mut() {
                Some(o) if o.overlay.is_some() => o.show_heatmap = !o.show_heatmap,
                Some(_) => s.say("this image has no heatmap"),
                None => s.say("open an image first (Enter)"),
            },
            Command::ToggleSaliency => return self.toggle_saliency(),
            // Handled by `on_problems_command` and `report_text::on_command`.
            Command::ToggleProblems | Command::ReadReport => {}
            Command::Left | Command::Right => self.move_column(c),
            Command::Up => return self.move_by(-1),
            Command::Down => return self.move_by(1),
            Command::PageUp => return self.move_by(-(self.page() as isize)),
            Command::PageDown => return self.move_by(self.page() as isize),
        }
        Action::None
    }

    /// Esc: closes the innermost thing open (help, saliency view, opened item, Overview filter),
    /// else clears the status line.
    fn back(&mut self) {
        let s = &mut self.state;
        let saliency_shown = s.zeroshot.opened.as_ref().is_some_and(|o| o.show_saliency);
        if s.help {
            s.help = false;
        } else if saliency_shown && s.tab == Tab::ZeroShot {
            if let Some(o) = s.zeroshot.opened.as_mut() {
                o.show_saliency = false;
            }
        } else if s.zeroshot.opened.is_some() && s.tab == Tab::ZeroShot {
            s.zeroshot.opened = None;
        } else if s.retrieval.opened.is_some() && s.tab == Tab::Retrieval {
            s.retrieval.opened = None;
        } else if s.tab == Tab::Overview
            && (!s.overview_tab.filter.is_empty() || s.overview_tab.significant_only)
        {
            s.overview_tab.filter.clear();
            s.overview_tab.significant_only = false;
            tabs::refresh(s);
        } else {
            s.status = None;
        }
    }

    /// `t` on Retrieval: image→text ↔ text→image; image→text asks for the current item's reports.
    fn toggle_direction(&mut self) -> Action {
        let s = &mut self.state;
        s.retrieval.mode = match s.retrieval.mode {
            RetrievalMode::ImageToText => RetrievalMode::TextToImage,
            RetrievalMode::TextToImage => RetrievalMode::ImageToText,
        };
        s.retrieval.results.clear();
        s.retrieval.opened = None;
        if s.retrieval.mode == RetrievalMode::ImageToText && s.gallery.is_some() {
            let item = s.retrieval.item;
            s.retrieval.truth = Some(item);
            return self.query(QueryKind::ImageToTexts(item), true);
        }
        Action::None
    }

    /// `[` / `]`: the previous / next zero-shot class, queried at once.
    fn cycle_class(&mut self, c: Command) -> Action {
        let s = &mut self.state;
        let n = s.gallery.as_ref().map_or(0, |g| g.classes.len());
        if n == 0 {
            s.say("no zero-shot classes loaded yet");
            return Action::None;
        }
        let c = match (s.zeroshot.class, c) {
            (None, Command::NextClass) => 0,
            (None, _) => n - 1,
            (Some(c), Command::NextClass) => (c + 1) % n,
            (Some(c), _) => (c + n - 1) % n,
        };
        s.zeroshot.class = Some(c);
        let name = s
            .gallery
            .as_ref()
            .map(|g| g.classes[c].clone())
            .unwrap_or_default();
        s.zeroshot.query_label = format!("class: {name}");
        self.query(QueryKind::ClassToImages(c), false)
    }

    /// Enter: opens the Retrieval item, or the Zero-shot hit under the cursor.
    fn open(&mut self) -> Action {
        let s = &mut self.state;
        if s.tab == Tab::Retrieval {
            self.open_item();
        } else if s.tab == Tab::ZeroShot {
            let hit = s
                .zeroshot
                .results
                .get(s.zeroshot.column)
                .and_then(|m| m.hits.get(s.zeroshot.rank));
            if let Some(hit) = hit {
                let item = hit.item;
                return self.query(QueryKind::Open(item), false);
            }
        }
        Action::None
    }

    /// ← / →: the model column of Zero-shot and Retrieval.
    fn move_column(&mut self, c: Command) {
        let s = &mut self.state;
        let n = s.model_count();
        let col = match s.tab {
            Tab::ZeroShot => &mut s.zeroshot.column,
            Tab::Retrieval => &mut s.retrieval.column,
            _ => return,
        };
        *col = if c == Command::Left {
            col.saturating_sub(1)
        } else {
            (*col + 1).min(n - 1)
        };
    }

    /// `v` on an opened image: show / hide the saliency view; the first time (and again after
    /// a failure) ask the saliency thread for it.
    fn toggle_saliency(&mut self) -> Action {
        let s = &mut self.state;
        if let Some(o) = s.zeroshot.opened.as_mut()
            && o.show_saliency
            && !matches!(o.saliency, SaliencyPane::Failed(_))
        {
            o.show_saliency = false;
            return Action::None;
        }
        let id = s.next_query;
        let req = match super::saliency_job::request(s, id) {
            Ok(r) => r,
            Err(e) => {
                s.status = Some(e);
                return Action::None;
            }
        };
        let Some(o) = s.zeroshot.opened.as_mut() else {
            return Action::None;
        };
        o.show_saliency = true;
        if matches!(o.saliency, SaliencyPane::NotAsked | SaliencyPane::Failed(_)) {
            o.saliency = SaliencyPane::Pending(id);
            s.next_query += 1;
            return Action::Saliency(req);
        }
        Action::None
    }

    /// `!` toggles the problems panel; while it is open, moves scroll it and `Esc` closes it.
    fn on_problems_command(&mut self, c: Command) -> Option<Action> {
        let p = &mut self.state.problems;
        if c == Command::ToggleProblems {
            p.open = !p.open;
            return Some(Action::None);
        }
        if !p.open {
            return None;
        }
        let page = self.page();
        let max = view::problems::max_scroll(&self.state);
        let p = &mut self.state.problems;
        match c {
            Command::Up => p.scroll = p.scroll.saturating_sub(1),
            Command::Down => p.scroll = (p.scroll + 1).min(max),
            Command::PageUp => p.scroll = p.scroll.saturating_sub(page),
            Command::PageDown => p.scroll = (p.scroll + page).min(max),
            Command::Back => p.open = false,
            Command::Quit | Command::Help => return None,
            _ => {}
        }
        Some(Action::None)
    }

    fn page(&self) -> usize {
        (view::body_area(self.state.size).height as usize)
            .saturating_sub(4)
            .max(1)
    }

    /// Moves the current tab's selection; on the Retrieval tab a new image runs its query.
    fn move_by(&mut self, delta: isize) -> Action {
        let s = &mut self.state;
        let step = |pos: usize, len: usize| -> usize {
            if len == 0 {
                0
            } else {
                (pos as isize + delta).clamp(0, len as isize - 1) as usize
            }
        };
        if s.tab == Tab::Retrieval
            && let Some(o) = s.retrieval.opened.as_mut()
        {
            o.scroll = (o.scroll as isize + delta).clamp(0, u16::MAX as isize) as u16;
            return Action::None;
        }
        match s.tab {
            Tab::Overview => s.overview_tab.move_by(delta),
            Tab::ZeroShot => {
                let len = hits_len(&s.zeroshot.results, s.zeroshot.column);
                s.zeroshot.rank = step(s.zeroshot.rank, len);
            }
            Tab::Retrieval => match s.retrieval.mode {
                RetrievalMode::TextToImage => {
                    let len = hits_len(&s.retrieval.results, s.retrieval.column);
                    s.retrieval.rank = step(s.retrieval.rank, len);
                }
                RetrievalMode::ImageToText => {
                    let len = s.gallery.as_ref().map_or(0, |g| g.items.len());
                    let item = step(s.retrieval.item, len);
                    if len == 0 || (item == s.retrieval.item && !s.retrieval.results.is_empty()) {
                        return Action::None;
                    }
                    s.retrieval.item = item;
                    s.retrieval.truth = Some(item);
                    return self.query(QueryKind::ImageToTexts(item), true);
                }
            },
            Tab::Probe => {}
            Tab::Geometry => {}
            Tab::Rag => {
                let len = s.rag.items.first().map_or(0, Vec::len);
                s.rag_pos.selected = step(s.rag_pos.selected, len);
            }
        }
        Action::None
    }

    fn on_mouse(&mut self, m: MouseEvent) -> Action {
        match m.kind {
            MouseEventKind::ScrollUp => self.on_command(Command::Up),
            MouseEventKind::ScrollDown => self.on_command(Command::Down),
            MouseEventKind::Down(MouseButton::Left) => {
                let pos = Position::new(m.column, m.row);
                let size = self.state.size;
                let full = Rect::new(0, 0, size.0, size.1);
                if let Some(tab) = view::tab_at(full, pos) {
                    self.state.tab = tab;
                    return Action::None;
                }
                if self.state.tab == Tab::Overview
                    && let Some(line) =
                        tabs::overview::line_at(&self.state, view::body_area(size), pos)
                {
                    self.state.overview_tab.pos.selected = line;
                }
                Action::None
            }
            _ => Action::None,
        }
    }
}

/// Number of hits in one model column.
fn hits_len(results: &[super::state::ModelHits], column: usize) -> usize {
    results.get(column).map_or(0, |m| m.hits.len())
}

/// A half-block thumbnail of [`THUMB_CELLS`] cells.
fn thumb_protocol(t: &Thumb) -> Option<Protocol> {
    let img = image::GrayImage::from_raw(t.width, t.height, t.pixels.clone())?;
    let area = Rect::new(0, 0, THUMB_CELLS.0, THUMB_CELLS.1);
    Halfblocks::new(DynamicImage::ImageLuma8(img), area)
        .ok()
        .map(Protocol::Halfblocks)
}

/// Adds `new` to `rows`: a row replaces the earlier row with the same (dataset, model, task,
/// setting, metric) — so the final summary supersedes rows shown while evaluating, without
/// duplicates — and any other row is appended. The result keeps `new`'s order at the end.
fn merge_rows(rows: &mut Vec<MetricRow>, new: Vec<MetricRow>) {
    let key = |r: &MetricRow| {
        (
            r.dataset.clone(),
            r.model.clone(),
            r.task,
            r.setting.clone(),
            r.metric.clone(),
        )
    };
    let incoming: std::collections::HashSet<_> = new.iter().map(key).collect();
    rows.retain(|r| !incoming.contains(&key(r)));
    rows.extend(new);
    // Adjusted over the rows present: while families are still running the families are
    // partial; once the summary has arrived the values are the review's.
    crate::eval::metrics::adjust(rows);
}
