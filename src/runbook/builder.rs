//! [`Builder`]: how the runbooks assemble a [`Plan`], one step at a time, on the cluster
//! state the steps before it leave.

use std::collections::BTreeMap;

use super::catalog;
use super::plan::{Action, NodeAccess, Plan, Probe, Recovery, Step};
use super::slon::access;
use super::text::sentence;
use crate::model::{Cluster, Node, NodeId};
use crate::ops::{Change, OpError};
use crate::render::Script;

/// Builds a plan step by step, carrying the cluster's state from one step to the next.
pub(crate) struct Builder {
    operation: &'static str,
    title: String,
    state: Cluster,
    nodes: BTreeMap<NodeId, NodeAccess>,
    steps: Vec<Step>,
}

impl Builder {
    /// A plan for `cluster`, able to reach every node it knows (failed ones included).
    pub(crate) fn new(operation: &'static str, title: String, cluster: &Cluster) -> Result<Builder, OpError> {
        crate::transition::check_references(cluster).map_err(crate::ops::inconsistent(operation))?;
        let mut nodes = BTreeMap::new();
        for node in cluster.nodes.values() {
            nodes.insert(node.id, access(cluster, operation, node)?);
        }
        Ok(Builder {
            operation,
            title,
            state: cluster.clone(),
            nodes,
            steps: Vec::new(),
        })
    }

    /// Lets the plan reach `node`, which `cluster` keeps among its dropped nodes (a
    /// failback or rebuild takes it back).
    pub(crate) fn reach(&mut self, cluster: &Cluster, node: &Node) -> Result<(), OpError> {
        let reached = access(cluster, self.operation, node)?;
        self.nodes.insert(node.id, reached);
        Ok(())
    }

    /// The cluster as it is once the steps so far have run.
    pub(crate) fn state(&self) -> &Cluster {
        &self.state
    }

    /// Moves on to a state a [`crate::transition`] computed (for changes no slonik
    /// script makes, such as a rebuilt node coming back).
    pub(crate) fn set_state(&mut self, state: Cluster) {
        self.state = state;
    }

    pub(crate) fn operation(&self) -> &'static str {
        self.operation
    }

    /// Appends a slonik step running `change.script`, and moves on to `change.next`.
    pub(crate) fn change(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        change: Change,
    ) -> Result<(), OpError> {
        self.slonik(title, why, change.script, None)?;
        self.state = change.next;
        Ok(())
    }

    /// Appends a slonik step after checking that the script renders.
    pub(crate) fn slonik(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        script: Script,
        on_failure: Option<Recovery>,
    ) -> Result<(), OpError> {
        self.renders(&script)?;
        if let Some(Recovery {
            action: Action::Slonik(recovery),
            ..
        }) = &on_failure
        {
            self.renders(recovery)?;
        }
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Slonik(script),
            only_if: None,
            on_failure,
        });
        Ok(())
    }

    fn renders(&self, script: &Script) -> Result<(), OpError> {
        script.render().map(|_| ()).map_err(|error| OpError::Render {
            operation: self.operation,
            error,
        })
    }

    /// Appends a check.
    pub(crate) fn check(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        node: NodeId,
        sql: String,
        expect: impl Into<String>,
        wait_seconds: u32,
    ) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Check {
                node,
                sql,
                expect: expect.into(),
                wait_seconds,
            },
            only_if: None,
            on_failure: None,
        });
    }

    /// Appends a step that runs SQL on a node.
    pub(crate) fn sql(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        node: NodeId,
        sql: String,
    ) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Sql { node, sql },
            only_if: None,
            on_failure: None,
        });
    }

    /// Appends a shell step on the host of a node.
    pub(crate) fn shell(
        &mut self,
        title: impl Into<String>,
        why: impl Into<String>,
        node: NodeId,
        command: String,
        may_fail: bool,
    ) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Shell {
                node,
                command,
                may_fail,
            },
            only_if: None,
            on_failure: None,
        });
    }

    /// Appends a manual step.
    pub(crate) fn manual(&mut self, title: impl Into<String>, why: impl Into<String>, instruction: String) {
        self.steps.push(Step {
            title: title.into(),
            why: sentence(why.into()),
            action: Action::Manual { instruction },
            only_if: None,
            on_failure: None,
        });
    }

    /// Gives the last step a recovery: what the runbook does, before it stops, when that
    /// step fails (a check that does not answer, a command that exits non-zero).
    pub(crate) fn on_failure_last(&mut self, recovery: Recovery) -> Result<(), OpError> {
        if let Action::Slonik(script) = &recovery.action {
            self.renders(script)?;
        }
        if let Some(step) = self.steps.last_mut() {
            step.on_failure = Some(recovery);
        }
        Ok(())
    }

    /// Makes the last step conditional.
    pub(crate) fn only_if_last(&mut self, probe: Probe) {
        if let Some(step) = self.steps.last_mut() {
            step.only_if = Some(probe);
        }
    }

    /// Ends the plan with one check per active node that its catalog matches the final
    /// state, so a runbook that "succeeded" into a different shape cannot go unnoticed.
    /// The catalog queries take every reference of the state as given, so it is checked first.
    pub(crate) fn finish(mut self) -> Result<Plan, OpError> {
        crate::transition::check_references(&self.state).map_err(crate::ops::inconsistent(self.operation))?;
        let expected = catalog::state_summary(&self.state);
        let sql = catalog::state_summary_query(&self.state);
        let wait = self.state.wait_timeout;
        let active: Vec<NodeId> = self.state.active_nodes().map(|n| n.id).collect();
        for node in active {
            let label = self
                .state
                .nodes
                .get(&node)
                .map_or_else(|| format!("node {node}"), Node::label);
            self.check(
                format!("Check that the catalog on {label} matches the new state"),
                "Every node must agree with the state slonik-gen writes with --write-config (nodes, set origins, subscriptions); catalog changes replicate as events, so this waits for them",
                node,
                sql.clone(),
                expected.clone(),
                wait,
            );
        }
        Ok(Plan {
            title: self.title,
            cluster: self.state.name.clone(),
            version: self.state.version,
            nodes: self.nodes,
            steps: self.steps,
            next: self.state,
        })
    }
}
