// Sign in with DingTalk (H5 micro-app 免登): ask DingTalk's JSAPI for an authCode and post
// it with the state to /workapps/dingtalk/signin/done. `dd` comes from DingTalk's JSAPI
// script, which the page includes only inside DingTalk's client (docs/work-apps.md).
(function () {
  "use strict";
  var form = document.getElementById("workapp-signin");
  var status = document.getElementById("workapp-status");
  if (!form || !status) return;
  var say = function (key) { status.textContent = status.getAttribute("data-" + key) || ""; };
  var post = function (code) {
    if (!code) { say("failed"); return; }
    form.elements.code.value = String(code);
    form.submit();
  };
  var dd = window.dd;
  var legacy = dd && dd.runtime && dd.runtime.permission && dd.runtime.permission.requestAuthCode;
  var unified = dd && (dd.requestAuthCode || dd.getAuthCode);
  if (!dd || !(legacy || unified) || (dd.env && dd.env.platform === "notInDingTalk")) {
    say("outside");
    return;
  }
  var options = {
    corpId: form.getAttribute("data-corp-id"),
    clientId: form.getAttribute("data-client-id")
  };
  var got = function (result) { post(result && (result.code || result.authCode)); };
  var failed = function () { say("failed"); };
  var ask = function () {
    if (legacy) {
      // dd.runtime.permission.requestAuthCode: onSuccess / onFail (DingTalk's classic JSAPI)
      dd.runtime.permission.requestAuthCode({
        corpId: options.corpId, clientId: options.clientId, onSuccess: got, onFail: failed
      });
    } else {
      // The unified JSAPI (dd.requestAuthCode / dd.getAuthCode): success / fail
      unified.call(dd, {
        corpId: options.corpId, clientId: options.clientId, success: got, fail: failed
      });
    }
  };
  say("waiting");
  if (typeof dd.ready === "function") dd.ready(ask); else ask();
  if (typeof dd.error === "function") dd.error(function () { say("failed"); });
})();
