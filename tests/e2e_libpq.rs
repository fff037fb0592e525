//! Live connections made as libpq makes them, against a real PostgreSQL
//! (tests/support/cluster.rs): `import cluster` and `status` reach a server that wants a
//! scram password through a passfile (PGPASSFILE, mode 0600), a service file
//! (PGSERVICEFILE + `service=NAME`), the PGHOST/PGPORT/PGUSER/PGDATABASE environment and
//! a Unix socket matched as `localhost` in the passfile; they fail, naming the reason and
//! no password, when the passfile is readable by others (libpq skips it) or the password
//! is wrong. With `ssl = on` and a certificate made by `openssl`, `sslmode=require`,
//! `verify-ca` and `verify-full` connect to a `hostssl`-only role and `sslmode=disable`
//! does not; a wrong root certificate is refused; a client certificate (`sslcert`,
//! `sslkey`, or PGSSLCERT, PGSSLKEY) logs in a `cert` role, and a key others can read is
//! refused.
//!
//! The node has no Slony-I schema: "this database has no Slony-I cluster" is how a
//! connection that got through shows, as against "password authentication failed".
//! Environment variables go to the child processes only.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::cluster::{tools_or_skip, TestCluster};

const PASSWORD: &str = "alice_pw_7Qx";
const TLS_PASSWORD: &str = "tls_pw_3Zk";
const WRONG: &str = "wrong_pw_9431";
const CONNECTED: &str = "this database has no Slony-I cluster `replication`";

/// Every variable libpq (and so the binary) reads, removed from the child's environment:
/// the ones that fill conninfo keys, and the ones that say where the service files are.
fn pg_vars() -> impl Iterator<Item = &'static str> {
    slonik_gen::import::live::libpq::ENV_KEYS
        .iter()
        .map(|(var, _)| *var)
        .chain(["PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR"])
}

struct Run {
    code: Option<i32>,
    output: String,
}

/// The binary with `args`, HOME set to `home` (no ~/.pgpass or ~/.postgresql of the
/// machine's), no PG* variables but `env`.
fn slonik_gen(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slonik-gen"));
    for var in pg_vars() {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home).env("LC_ALL", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("runs slonik-gen");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in [PASSWORD, TLS_PASSWORD, WRONG] {
        assert!(
            !output.contains(secret),
            "a password in the output of {args:?}:\n{output}"
        );
    }
    Run {
        code: out.status.code(),
        output,
    }
}

fn import(home: &Path, env: &[(&str, &str)], conninfo: &str) -> Run {
    slonik_gen(
        home,
        env,
        &[
            "import",
            "cluster",
            "--conninfo",
            conninfo,
            "--cluster",
            "replication",
        ],
    )
}

#[track_caller]
fn assert_connected(run: &Run, what: &str) {
    assert!(
        run.output.contains(CONNECTED) && !run.output.contains("authentication failed"),
        "{what}: expected a connection (and no Slony schema), got exit {:?}:\n{}",
        run.code,
        run.output
    );
    assert_ne!(run.code, Some(0), "{what}");
}

#[track_caller]
fn assert_refused(run: &Run, what: &str, reason: &str) {
    assert!(
        run.output.contains(reason) && !run.output.contains(CONNECTED),
        "{what}: expected a refusal naming {reason:?}, got exit {:?}:\n{}",
        run.code,
        run.output
    );
    assert_ne!(run.code, Some(0), "{what}");
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn e2e_live_connections_honour_libpq_files_environment_and_sslmode() {
    let Some(tools) = tools_or_skip("e2e_live_connections_honour_libpq_files_environment_and_sslmode") else {
        return;
    };
    let c = TestCluster::start(&tools, 1, "geekdb");
    let port = c.port(1).to_string();
    let socket_dir = c.dir().display().to_string();
    c.sql(
        1,
        &format!(
            "set password_encryption = 'scram-sha-256';\n\
             create role alice login password '{PASSWORD}';\n\
             create role tlsuser login password '{TLS_PASSWORD}';"
        ),
    );
    let have_openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let certs = tempfile::tempdir().expect("tempdir");
    if have_openssl {
        let d = certs.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=slonik-gen test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=other CA",
                "-keyout",
                "other.key",
                "-out",
                "other.crt",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-new",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        write(
            &d.join("san.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
            0o644,
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.crt",
            ],
        );
        // A client certificate for role certuser, signed by the same CA.
        openssl(
            d,
            &[
                "req",
                "-new",
                "-nodes",
                "-subj",
                "/CN=certuser",
                "-keyout",
                "client.key",
                "-out",
                "client.csr",
            ],
        );
        write(&d.join("client.ext"), "extendedKeyUsage=clientAuth\n", 0o644);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "client.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "client.ext",
                "-out",
                "client.crt",
            ],
        );
        std::fs::set_permissions(d.join("client.key"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        for (file, target) in [
            ("server.crt", "server.crt"),
            ("server.key", "server.key"),
            ("ca.crt", "root.crt"),
        ] {
            let target = c.data_dir(1).join(target);
            std::fs::copy(d.join(file), &target).expect("copies the certificate");
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            c.give_to_server_user(&target);
        }
        c.sql(1, "alter system set ssl = on");
        c.sql(1, "alter system set ssl_ca_file = 'root.crt'");
        c.sql(1, "create role certuser login");
    } else {
        eprintln!("e2e_libpq: no openssl on PATH: the TLS part is skipped (apt-get install openssl)");
    }
    // The harness's own psql connects as postgres over TCP without a password: keep it.
    let hba = c.data_dir(1).join("pg_hba.conf");
    std::fs::write(
        &hba,
        "local all alice scram-sha-256\n\
         local all all trust\n\
         host all postgres 127.0.0.1/32 trust\n\
         host all alice 127.0.0.1/32 scram-sha-256\n\
         hostssl all tlsuser 127.0.0.1/32 scram-sha-256\n\
         hostssl all certuser 127.0.0.1/32 cert\n",
    )
    .expect("writes pg_hba.conf");
    c.sql(1, "select pg_reload_conf()");
    let want_ssl = if have_openssl { "on" } else { "off" };
    c.wait_until("the new pg_hba.conf and ssl setting", Duration::from_secs(30), || {
        c.psql(1, "select current_setting('ssl') || ':' || (select count(*) from pg_hba_file_rules where user_name = '{certuser}')")
            .is_ok_and(|out| out == format!("{want_ssl}:1"))
    });

    let home = tempfile::tempdir().expect("tempdir");
    let home = home.path();
    let files = tempfile::tempdir().expect("tempdir");
    let passfile = files.path().join("pgpass");
    let pass_text = format!(
        "# the Unix socket matches localhost\nlocalhost:{port}:geekdb:alice:{PASSWORD}\n127.0.0.1:{port}:*:alice:{PASSWORD}\n*:*:*:tlsuser:{TLS_PASSWORD}\n"
    );
    write(&passfile, &pass_text, 0o600);
    let passfile = passfile.display().to_string();
    let tcp = format!("host=127.0.0.1 port={port} dbname=geekdb user=alice");

    // The password itself is needed: without one the server says no.
    let run = import(home, &[], &tcp);
    assert_refused(
        &run,
        "no password anywhere",
        "password missing (no password found",
    );

    // (a) PGPASSFILE, mode 0600: over TCP, and over the Unix socket as `localhost`.
    let run = import(home, &[("PGPASSFILE", &passfile)], &tcp);
    assert_connected(&run, "PGPASSFILE");
    let run = import(
        home,
        &[("PGPASSFILE", &passfile)],
        &format!("host={socket_dir} port={port} dbname=geekdb user=alice"),
    );
    assert_connected(&run, "PGPASSFILE over the Unix socket");
    // ~/.pgpass when nothing names a passfile.
    write(&home.join(".pgpass"), &pass_text, 0o600);
    assert_connected(&import(home, &[], &tcp), "~/.pgpass");
    std::fs::remove_file(home.join(".pgpass")).expect("removes ~/.pgpass");

    // A passfile others can read is skipped, as libpq skips it, and the error says why.
    let open = files.path().join("pgpass-open");
    write(&open, &pass_text, 0o644);
    let open = open.display().to_string();
    let run = import(home, &[("PGPASSFILE", &open)], &tcp);
    assert_refused(&run, "a 0644 passfile", "group or world access");
    assert!(run.output.contains(&open), "{}", run.output);

    // A wrong password: the server's refusal, with the password hidden.
    let run = import(
        home,
        &[("PGPASSFILE", &passfile)],
        &format!("{tcp} password={WRONG}"),
    );
    assert_refused(
        &run,
        "a wrong password",
        "password authentication failed for user \"alice\"",
    );
    assert!(run.output.contains("password=***"), "{}", run.output);

    // (b) PGSERVICEFILE + service=NAME; the conninfo's own keys win over the service's.
    let services = files.path().join("services.conf");
    write(
        &services,
        &format!("# test services\n[slonik_gen_test]\nhost=127.0.0.1\nport={port}\ndbname=geekdb\nuser=alice\npassword={PASSWORD}\n\n[wrong_user]\nhost=127.0.0.1\nport={port}\nuser=nobody\n"),
        0o600,
    );
    let services = services.display().to_string();
    let service_env = [("PGSERVICEFILE", services.as_str())];
    assert_connected(&import(home, &service_env, "service=slonik_gen_test"), "service=");
    assert_connected(
        &import(
            home,
            &[("PGSERVICEFILE", &services), ("PGSERVICE", "slonik_gen_test")],
            "",
        ),
        "PGSERVICE",
    );
    assert_connected(
        &import(
            home,
            &[("PGSERVICEFILE", &services), ("PGPASSFILE", &passfile)],
            "service=wrong_user user=alice dbname=geekdb",
        ),
        "a service with the conninfo's user",
    );
    let run = import(home, &service_env, "service=no_such_service");
    assert_refused(
        &run,
        "an unknown service",
        "definition of service \"no_such_service\" not found",
    );

    // (c) PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASSFILE with an empty conninfo.
    let run = import(
        home,
        &[
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", &port),
            ("PGUSER", "alice"),
            ("PGDATABASE", "geekdb"),
            ("PGPASSFILE", &passfile),
        ],
        "",
    );
    assert_connected(&run, "PG* environment");

    // `status` reads the node's passfile from the config (it used to drop it).
    let config = files.path().join("cluster.toml");
    write(
        &config,
        &format!("cluster = \"replication\"\n\n[[node]]\nid = 1\nname = \"one\"\nhost = \"127.0.0.1\"\nport = {port}\ndbname = \"geekdb\"\nuser = \"alice\"\npassfile = \"{passfile}\"\n\n[[node]]\nid = 2\nname = \"two\"\nhost = \"127.0.0.1\"\nport = {port}\ndbname = \"geekdb\"\nuser = \"alice\"\npassfile = \"{open}\"\n"),
        0o600,
    );
    let config = config.display().to_string();
    let run = slonik_gen(home, &[], &["--config", &config, "status"]);
    assert!(
        run.output.contains("no Slony-I cluster") && run.output.contains("group or world access"),
        "status: node 1 connects, node 2's passfile is skipped:\n{}",
        run.output
    );
    assert_eq!(
        run.output.matches("no Slony-I cluster").count(),
        1,
        "{}",
        run.output
    );

    if !have_openssl {
        return;
    }
    // TLS: tlsuser may only come in over hostssl.
    let tls = format!("host=127.0.0.1 port={port} dbname=geekdb user=tlsuser");
    let pass = [("PGPASSFILE", passfile.as_str())];
    assert_connected(
        &import(home, &pass, &format!("{tls} sslmode=require")),
        "sslmode=require",
    );
    assert_connected(&import(home, &pass, &tls), "the default sslmode (prefer)");
    let run = import(home, &pass, &format!("{tls} sslmode=disable"));
    assert_refused(&run, "sslmode=disable to a hostssl-only role", "no encryption");
    let ca = certs.path().join("ca.crt").display().to_string();
    let other = certs.path().join("other.crt").display().to_string();
    assert_connected(
        &import(
            home,
            &pass,
            &format!("{tls} sslmode=verify-full sslrootcert={ca}"),
        ),
        "verify-full against the CA",
    );
    // verify-ca checks the chain, not the name; verify-full checks both.
    let misnamed = format!("host=wrong.invalid hostaddr=127.0.0.1 port={port} dbname=geekdb user=tlsuser");
    assert_connected(
        &import(
            home,
            &pass,
            &format!("{misnamed} sslmode=verify-ca sslrootcert={ca}"),
        ),
        "verify-ca with another host name",
    );
    let run = import(
        home,
        &pass,
        &format!("{misnamed} sslmode=verify-full sslrootcert={ca}"),
    );
    assert_refused(
        &run,
        "verify-full with another host name",
        "certificate not valid for name \"wrong.invalid\"",
    );
    let run = import(
        home,
        &pass,
        &format!("{tls} sslmode=verify-ca sslrootcert={other}"),
    );
    assert_refused(&run, "verify-ca against another CA", "UnknownIssuer");
    let run = import(home, &pass, &format!("{tls} sslmode=verify-full"));
    assert_refused(&run, "verify-full without a root file", "root certificate file");
    // A client certificate (`cert` authentication, no password); its key must be private.
    let cert = format!(
        "host=127.0.0.1 port={port} dbname=geekdb user=certuser sslmode=verify-full sslrootcert={ca}"
    );
    let client_crt = certs.path().join("client.crt").display().to_string();
    let client_key = certs.path().join("client.key").display().to_string();
    assert_connected(
        &import(
            home,
            &[],
            &format!("{cert} sslcert={client_crt} sslkey={client_key}"),
        ),
        "a client certificate",
    );
    assert_connected(
        &import(
            home,
            &[("PGSSLCERT", &client_crt), ("PGSSLKEY", &client_key)],
            &cert,
        ),
        "a client certificate from PGSSLCERT and PGSSLKEY",
    );
    let run = import(home, &[], &cert);
    assert_refused(
        &run,
        "cert authentication without a certificate",
        "connection requires a valid client certificate",
    );
    std::fs::set_permissions(&client_key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = import(
        home,
        &[],
        &format!("{cert} sslcert={client_crt} sslkey={client_key}"),
    );
    assert_refused(&run, "a client key others can read", "has group or world access");
    // ~/.postgresql/root.crt turns `require` into verify-ca, as in libpq.
    std::fs::create_dir(home.join(".postgresql")).expect("mkdir ~/.postgresql");
    std::fs::copy(certs.path().join("other.crt"), home.join(".postgresql/root.crt")).expect("copies");
    let run = import(home, &pass, &format!("{tls} sslmode=require"));
    assert_refused(
        &run,
        "require with a foreign ~/.postgresql/root.crt",
        "UnknownIssuer",
    );
}
