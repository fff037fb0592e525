pub mod cluster;
pub mod load;
pub mod replicate;
pub mod slon_log;
