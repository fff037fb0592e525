pub mod catalog;
pub mod cluster;
pub mod load;
pub mod replicate;
pub mod runbook;
pub mod slon_log;
