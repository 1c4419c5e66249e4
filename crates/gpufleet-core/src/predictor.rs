//! Run-time prediction from history (`gpufleet.sched.predictor.RunTimePredictor`): the
//! median run time of the last `WINDOW` completed jobs of the same team and size, else of
//! the same team, else of every job; `PRIOR_S` before any job has completed.

use std::collections::{HashMap, VecDeque};

pub const WINDOW: usize = 20;
pub const PRIOR_S: f64 = 3600.0;

/// Recent completed run times of similar jobs.
pub struct Predictor {
    /// Per job, its team (an index) and its GPUs.
    team: Vec<usize>,
    gpus: Vec<i64>,
    by_team_size: HashMap<(usize, i64), VecDeque<f64>>,
    by_team: HashMap<usize, VecDeque<f64>>,
    all: VecDeque<f64>,
}

fn push(history: &mut VecDeque<f64>, run_s: f64) {
    if history.len() == WINDOW {
        history.pop_front();
    }
    history.push_back(run_s);
}

/// Python's `statistics.median`: the middle value, or the mean of the two middle ones.
fn median(history: &VecDeque<f64>) -> f64 {
    let mut data: Vec<f64> = history.iter().copied().collect();
    data.sort_by(|a, b| a.partial_cmp(b).expect("no NaN run time"));
    let n = data.len();
    if n % 2 == 1 {
        data[n / 2]
    } else {
        (data[n / 2 - 1] + data[n / 2]) / 2.0
    }
}

impl Predictor {
    pub fn new(team: Vec<usize>, gpus: Vec<i64>) -> Self {
        Predictor {
            team,
            gpus,
            by_team_size: HashMap::new(),
            by_team: HashMap::new(),
            all: VecDeque::new(),
        }
    }

    /// A job completed after running `run_s` seconds.
    pub fn observe(&mut self, job: usize, run_s: f64) {
        let (team, gpus) = (self.team[job], self.gpus[job]);
        push(self.by_team_size.entry((team, gpus)).or_default(), run_s);
        push(self.by_team.entry(team).or_default(), run_s);
        push(&mut self.all, run_s);
    }

    /// Predicted run time of `job` in seconds.
    pub fn predict(&self, job: usize) -> f64 {
        let team = self.team[job];
        let found = [
            self.by_team_size.get(&(team, self.gpus[job])),
            self.by_team.get(&team),
            Some(&self.all),
        ]
        .into_iter()
        .flatten()
        .find(|history| !history.is_empty());
        found.map_or(PRIOR_S, median)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prediction_falls_back_from_team_and_size_to_team_to_everyone() {
        // Jobs 0-2 of team 0 (8, 8, 16 GPUs), job 3 of team 1.
        let mut predictor = Predictor::new(vec![0, 0, 0, 1], vec![8, 8, 16, 8]);
        assert_eq!(predictor.predict(0), PRIOR_S);
        predictor.observe(0, 100.0);
        predictor.observe(2, 400.0);
        assert_eq!(predictor.predict(1), 100.0); // team 0, 8 GPUs
        predictor.observe(1, 200.0);
        assert_eq!(predictor.predict(1), 150.0); // the mean of the two middle values
        assert_eq!(predictor.predict(3), 200.0); // everyone: 100, 400, 200
    }

    #[test]
    fn only_the_last_window_counts() {
        let mut predictor = Predictor::new(vec![0; 2], vec![1; 2]);
        for run in 0..(WINDOW + 5) {
            predictor.observe(0, run as f64);
        }
        // 5..=24: the median of 20 values is (14 + 15) / 2.
        assert_eq!(predictor.predict(1), 14.5);
    }
}
