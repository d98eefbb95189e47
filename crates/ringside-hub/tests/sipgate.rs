//! sipgate.io's push API against the real hub: answers that subscribe to follow-up events,
//! the documented sequences in the journal, sipgate user ids mapped to agents, and the
//! signature checked with sipgate's published key (reference: providers.md §4,
//! zammad-cti.md §3.3).

mod common;

use common::{call_of, TestHub};
use serde_json::{json, Value};

const TOKEN: &str = "sipgate-test-token-0123456789";

fn config(verify: bool) -> String {
    format!(
        "public_url = \"http://zammad.example.com\"\n[sipgate]\nenabled = true\ntoken = \"{TOKEN}\"\nverify_signature = {verify}\n"
    )
}

fn callback(direction: &str) -> String {
    format!("http://zammad.example.com/api/v1/sipgate/{TOKEN}/{direction}")
}

async fn post(hub: &TestHub, route: &str, body: &str, signature: Option<&str>) -> (u16, String) {
    let mut request = hub
        .http
        .post(hub.url(&format!("/api/v1/sipgate/{TOKEN}/{route}")))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(signature) = signature {
        request = request.header("X-Sipgate-Signature", signature);
    }
    let response = request.body(body.to_owned()).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn ok_xml(direction: &str) -> String {
    let url = callback(direction);
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response onHangup=\"{url}\" onAnswer=\"{url}\"/>\n")
}

#[tokio::test]
async fn an_answered_call_follows_the_sipgate_users_to_agents() {
    let hub = TestHub::start(&config(false)).await;
    for (login, id) in [("alice", "w0"), ("bob", "w1")] {
        hub.agent(login, false, &[]).await;
        let (status, _) = hub
            .send(
                "PATCH",
                &format!("/api/v1/admin/agents/{login}"),
                &hub.admin_token,
                json!({"identities": {"sipgate": id}}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;

    let new_call = "event=newCall&from=492111234567&to=4915791234567&direction=in&callId=123456\
                    &user%5B%5D=Alice&user%5B%5D=Bob&userId%5B%5D=w0&userId%5B%5D=w1\
                    &fullUserId%5B%5D=1234567w0&fullUserId%5B%5D=1234567w1&origCallId=123456&xcid=x";
    assert_eq!(post(&hub, "in", new_call, None).await, (200, ok_xml("in")));
    let ringing = stream.next().await;
    let call = call_of(&ringing).unwrap();
    assert_eq!(call.offered_to, Some(vec!["alice".into(), "bob".into()]));
    assert_eq!(call.to_comment.as_deref(), Some("Alice, Bob"));

    let answer = "event=answer&callId=123456&user=Bob&userId=w1&fullUserId=1234567w1\
                  &from=492111234567&to=4915791234567&direction=in&answeringNumber=4921100000001";
    assert_eq!(post(&hub, "in", answer, None).await, (200, ok_xml("in")));
    let dtmf = "event=dtmf&dtmf=1&callId=123456";
    assert_eq!(post(&hub, "in", dtmf, None).await.0, 200);
    let hangup = "event=hangup&cause=normalClearing&callId=123456&from=492111234567\
                  &to=4915791234567&direction=in&answeringNumber=4921100000001";
    assert_eq!(post(&hub, "in", hangup, None).await.0, 200);

    let journal = hub.journal().await;
    let call = &journal[0];
    assert_eq!(call["provider"], "sipgate");
    assert_eq!(call["answered_by"], "bob");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], true);
    assert_eq!(call["comment"], "normalClearing");
}

#[tokio::test]
async fn outbound_calls_get_the_caller_id_and_missed_calls_stay_open() {
    let hub = TestHub::start(&format!(
        "{}[outbound]\ndefault_caller_id = \"4930777000000\"\n",
        config(false)
    ))
    .await;
    let new_call = "event=newCall&direction=out&from=4930600000000&to=4912347114711&callId=out-1&user%5B%5D=user+1";
    let (status, xml) = post(&hub, "out", new_call, None).await;
    assert_eq!(status, 200);
    let url = callback("out");
    assert_eq!(
        xml,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response onHangup=\"{url}\" onAnswer=\"{url}\">\n  <Dial callerId=\"4930777000000\">\n    <Number>4912347114711</Number>\n  </Dial>\n</Response>\n")
    );
    post(
        &hub,
        "out",
        "event=hangup&direction=out&callId=out-1&cause=cancel",
        None,
    )
    .await;

    post(
        &hub,
        "in",
        "event=newCall&direction=in&from=4912347114711&to=4930600000000&callId=in-1",
        None,
    )
    .await;
    post(
        &hub,
        "in",
        "event=hangup&direction=in&callId=in-1&cause=cancel",
        None,
    )
    .await;

    let journal = hub.journal().await;
    let by_id = |id: &str| journal.iter().find(|c| c["call_id"] == id).unwrap().clone();
    assert_eq!(by_id("out-1")["done"], true);
    assert_eq!(by_id("out-1")["from"], "4930777000000");
    assert_eq!(by_id("in-1")["done"], false);
}

/// The signed request from sipgate's own library tests (providers.md §4.4).
const SIGNED_BODY: &str = "callId=&direction=in&event=newCall&from=4912354678&fullUserId%5B%5D%5B0%5D=123456789&originalCallId=&to=49999999&user%5B%5D%5B0%5D=TestUser&userId%5B%5D%5B0%5D=123456789&xcid=";
const SIGNATURE: &str = "hlY7r9Vad0NP/7xJxf+vcDqjWaGWHOcIrj+rcP5aqQQcHtbSLsElp2kRNRPBL5unWbq6bExVPZB49HHM+Y/fWSVL19q7KSJhYPHfikcME0r0mCYB4S/VnJwnIvpiqz6s7Dpnk3wDCy65B3WQLwBVWA9oh6ojNM/g+87YnoMTKRx1KoFqosKNfBp1c1I8XjXusGOW/VlGnMb6wHhUVdwi9K7FfUgxj2pnV+M1Xv9rYs6RAi4V1OcUPqdT5geHsxWa09sk+AEHSUm1EFnAvx7PhIkugpNwST7yPKHf0+iyei4qUQCBZtfQVOI4mLZTRfQuyVo3YuJfvHaNPYY34/1ZCZGCKeu+HS6WHs1vGUyKxSi8v4JJqog2VOlWruf8pMGg+syuAFwuxiCnWsSXgaaUfe9JrBAFjBxUmNP9DzR1bbkwxkJnthacu7jALXjGsubjSSSl955QgenV/ZpODHgWDPg0fe6qGILtk+kXLjyfSsoR/qgzE5W5OAyZq8W64h01KAt9Q283N7/2nogy6keiIWL3qjPolWnrchSP7iJUatM2YiTcpkNKnJ70UE05cdw3swuNe7zqD51MdOX3rAioEOFgOIFMSrxMVX+V4XK7sa5o43smN8lHoa+0AogQMuIrC7k2axdRbulSSNfyqVAZIT4qS0cItiv3aPXsdDKkkA0=";

#[tokio::test]
async fn signatures_are_checked_with_sipgates_key() {
    let hub = TestHub::start(&config(true)).await;
    // Genuine: past the signature check (the body itself has an empty callId).
    let (status, xml) = post(&hub, "in", SIGNED_BODY, Some(SIGNATURE)).await;
    assert_eq!(status, 422, "{xml}");
    assert!(xml.contains("callId"), "{xml}");
    // One digit changed, no signature, a garbage signature: refused before anything is read.
    let tampered = SIGNED_BODY.replace("123456789&originalCallId", "123456779&originalCallId");
    for (body, signature) in [
        (tampered.as_str(), Some(SIGNATURE)),
        (SIGNED_BODY, None),
        (SIGNED_BODY, Some("bm90IGEgc2lnbmF0dXJl")),
    ] {
        let (status, xml) = post(&hub, "in", body, signature).await;
        assert_eq!(status, 401, "{xml}");
        assert!(xml.contains("X-Sipgate-Signature"), "{xml}");
    }
    let webhook_log: Value = hub
        .get("/api/v1/admin/webhook-log", &hub.admin_token)
        .await
        .1;
    assert_eq!(webhook_log[0]["endpoint"], "sipgate");
    assert!(hub.journal().await.is_empty());
}

#[tokio::test]
async fn only_in_and_out_are_routes() {
    let hub = TestHub::start(&config(false)).await;
    let (status, _) = post(&hub, "sideways", "event=newCall", None).await;
    assert_eq!(status, 404);
    let trailing = hub
        .http
        .post(hub.url(&format!("/api/v1/sipgate/{TOKEN}/in/")))
        .body("event=newCall&direction=in&from=4912347114711&to=4930600000000&callId=slash")
        .send()
        .await
        .unwrap();
    assert_eq!(
        trailing.status(),
        200,
        "a trailing slash is allowed, as in Zammad"
    );
}
