// Direct uploads for the form marked data-direct-upload: the browser asks the app for a signed upload
// (POST /uploads/direct), sends the file straight to the storage with it (a PUT to S3, or to the app's
// own serveFiles on local disk), then hands the ticket back (POST /uploads/direct/complete), and the app
// attaches the file to a new row. Without JavaScript the same form posts the file through the app.
(() => {
  const form = document.querySelector("form[data-direct-upload]");
  if (!form || !window.fetch || !window.XMLHttpRequest) return;
  const field = (name) => form.elements.namedItem(name);
  const button = form.querySelector("button[type=submit]");
  const progress = form.querySelector("progress");

  function showError(message) {
    let box = document.getElementById("error");
    if (!box) {
      box = document.createElement("p");
      box.className = "error";
      box.id = "error";
      box.setAttribute("role", "alert");
      form.before(box);
    }
    box.textContent = message;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
    return data;
  }

  // XMLHttpRequest rather than fetch: it reports upload progress. Resolves with the ETag the storage answered.
  function put(url, headers, body, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded);
      };
      xhr.onload = () =>
        xhr.status >= 200 && xhr.status < 300
          ? resolve(xhr.getResponseHeader("ETag"))
          : reject(new Error(`The storage refused the upload (HTTP ${xhr.status}); nothing was stored.`));
      xhr.onerror = () =>
        reject(
          new Error("The storage could not be reached (is its CORS policy open to this site?); nothing was stored."),
        );
      xhr.send(body);
    });
  }

  // One PUT; or, for an upload in parts, every part (three at a time, each retried once), with their ETags.
  async function send(upload, file) {
    if (!upload.parts) {
      await put(upload.url, upload.headers, file, (sent) => {
        progress.value = sent / file.size;
      });
      return undefined;
    }
    const sent = new Map();
    const sendPart = async (part) => {
      const start = (part.partNumber - 1) * upload.partSize;
      const body = file.slice(start, start + part.size);
      for (let attempt = 1; ; attempt++) {
        try {
          const etag = await put(part.url, part.headers, body, (bytes) => {
            sent.set(part.partNumber, bytes);
            progress.value = [...sent.values()].reduce((a, b) => a + b, 0) / file.size;
          });
          return { partNumber: part.partNumber, etag };
        } catch (error) {
          if (attempt === 2) throw error;
        }
      }
    };
    const queue = [...upload.parts];
    const done = [];
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) done.push(await sendPart(part));
    };
    await Promise.all([worker(), worker(), worker()]);
    return done.sort((a, b) => a.partNumber - b.partNumber);
  }

  form.addEventListener("submit", async (event) => {
    const file = field("file").files[0];
    if (!file) return; // the server's own answer: "Choose a file to upload."
    event.preventDefault();
    const values = {
      title: field("title").value,
      visibility: form.querySelector("input[name=visibility]:checked")?.value,
    };
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      const { upload } = await post("/uploads/direct", { ...values, filename: file.name, size: file.size });
      const parts = await send(upload, file);
      const { id } = await post("/uploads/direct/complete", {
        ...values,
        originalName: file.name,
        ticket: upload.ticket,
        parts,
      });
      window.location.assign(`/#upload-${id}`);
    } catch (error) {
      showError(error.message);
      progress.hidden = true;
      button.disabled = false;
    }
  });
})();
