//! Running a parsed [`Command`] against the node. Keys arrive parsed; the
//! [`Reply`] decides success (see [`Reply::new`]).

use crate::bootstrap::DialTarget;
use crate::command::{Command, Rejected};
use crate::network::Client;
use crate::output::{Body, Reply};

/// Runs `command` against the node behind `client`.
pub async fn apply(client: &Client, command: Command) -> Reply {
    let started = std::time::Instant::now();
    let name = command.name();
    let key = command.key().cloned();
    let local = client.peer_id();
    let result = match command {
        Command::Put { key, value, quorum } => client
            .put(key.record_key(&local), value.into_bytes(), quorum)
            .await
            .map(Body::Put),
        Command::Get { key, quorum } => client
            .get(key.record_key(&local), quorum)
            .await
            .map(Body::Get),
        Command::Provide { key } => client
            .provide(key.record_key(&local))
            .await
            .map(Body::Provide),
        Command::Providers { key } => client
            .providers(key.record_key(&local))
            .await
            .map(Body::Providers),
        Command::Peers => client.peers().await.map(Body::Peers),
        Command::Id => client.info().await.map(Body::Id),
        Command::Routing { svg } => return super::trace::routing(client, name, svg).await,
        Command::Trace { target, svg } => {
            return super::trace::apply(client, name, target, svg).await;
        }
        Command::Closest { key } => client
            .closest(key.record_key(&local))
            .await
            .map(Body::Closest),
        Command::Dial { target } => match target {
            DialTarget::Addr(t) => client.dial(t).await,
            DialTarget::Peer(p) => client.dial_peer(p).await,
        }
        .map(Body::Dial),
        Command::Bootstrap => client.bootstrap().await.map(Body::Bootstrap),
        Command::Stats => client.stats().await.map(Body::Stats),
        Command::Health => client.health().await.map(Body::Health),
        Command::Delete { key } => client
            .delete(key.record_key(&local))
            .await
            .map(Body::Delete),
        Command::Compact => client.compact().await.map(Body::Compact),
        Command::Backup { dir } => client.backup(dir.into()).await.map(Body::Backup),
        Command::Config => Ok(Body::Config(Box::new(client.config().clone()))),
        Command::LogLevel { level } => crate::logging::set_level(&level)
            .map(Body::LogLevel)
            .map_err(|e| crate::Error::Invalid(e.to_string())),
        Command::Help => Ok(Body::Help(super::help())),
        Command::Quit => Ok(Body::Quit),
    };
    let reply = Reply::new(name, key, result.map_err(Into::into));
    client
        .served()
        .observe(name, reply.outcome(), started.elapsed());
    reply
}

/// The reply to parsed input: the command run, or the reason it is not one.
pub async fn reply_to(client: &Client, parsed: Result<Command, Rejected>) -> Reply {
    match parsed {
        Ok(command) => apply(client, command).await,
        Err(rejected) => Reply::rejected(rejected),
    }
}
