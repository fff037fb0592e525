alter table app.accounts add column note text;
