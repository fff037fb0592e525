pub mod cluster;
pub mod replicate;
pub mod slon_log;
