/* The catalogue's behaviour: search as you type on the index page, copy buttons on the
   template pages. The data is embedded in the page, not fetched: a page opened from a
   file:// URL may not fetch, and the catalogue must work there as on any web host. */
(function () {
  "use strict";

  // Points a search word earns in each field; an entry must match every word somewhere.
  var WEIGHTS = {
    nameExact: 100, namePrefix: 60, namePart: 40, name: 25,
    categoryExact: 20, category: 10,
    descriptionWord: 8, description: 4,
    parameterWord: 6, parameter: 3
  };

  function lower(text) {
    return (text || "").toLowerCase();
  }

  // " word word " so that " " + term finds a term at the start of any word.
  function wordsOf(text) {
    return " " + lower(text).replace(/[^\p{L}\p{N}]+/gu, " ") + " ";
  }

  function prepare(entry) {
    var name = lower(entry.name);
    return {
      name: name,
      nameParts: name.split(/[-_.\s]+/),
      category: lower(entry.category),
      description: lower(entry.description),
      descriptionWords: wordsOf(entry.description),
      parameters: lower(entry.parameters.join(" ")),
      parameterWords: wordsOf(entry.parameters.join(" "))
    };
  }

  function termScore(term, e) {
    var score = 0;
    if (e.name === term) {
      score += WEIGHTS.nameExact;
    } else if (e.name.indexOf(term) === 0) {
      score += WEIGHTS.namePrefix;
    } else if (e.nameParts.some(function (part) { return part.indexOf(term) === 0; })) {
      score += WEIGHTS.namePart;
    } else if (e.name.indexOf(term) !== -1) {
      score += WEIGHTS.name;
    }
    if (e.category === term) {
      score += WEIGHTS.categoryExact;
    } else if (e.category.indexOf(term) !== -1) {
      score += WEIGHTS.category;
    }
    if (e.descriptionWords.indexOf(" " + term) !== -1) {
      score += WEIGHTS.descriptionWord;
    } else if (e.description.indexOf(term) !== -1) {
      score += WEIGHTS.description;
    }
    if (e.parameterWords.indexOf(" " + term) !== -1) {
      score += WEIGHTS.parameterWord;
    } else if (e.parameters.indexOf(term) !== -1) {
      score += WEIGHTS.parameter;
    }
    return score;
  }

  // 0 leaves the entry out; with no words every entry scores 1 and keeps name order.
  function score(prepared, terms) {
    var total = 1;
    for (var i = 0; i < terms.length; i++) {
      var points = termScore(terms[i], prepared);
      if (points === 0) {
        return 0;
      }
      total += points;
    }
    return total;
  }

  function plural(count) {
    return count + (count === 1 ? " template" : " templates");
  }

  function setUpSearch() {
    var input = document.getElementById("search");
    var data = document.getElementById("catalogue-data");
    if (!input || !data) {
      return;
    }
    var form = input.form;
    var list = document.getElementById("results");
    var category = document.getElementById("category");
    var count = document.getElementById("count");
    var empty = document.getElementById("no-results");
    var items = {};
    Array.prototype.forEach.call(list.children, function (item) {
      items[item.getAttribute("data-name")] = item;
    });
    var entries = JSON.parse(data.textContent).map(function (entry) {
      return { entry: entry, prepared: prepare(entry), item: items[entry.name] };
    });

    function update() {
      var terms = lower(input.value).split(/\s+/).filter(Boolean);
      var wantedCategory = category.value;
      var shown = [];
      entries.forEach(function (e) {
        var inCategory = !wantedCategory || wantedCategory === "c:" + e.entry.category;
        var points = inCategory ? score(e.prepared, terms) : 0;
        e.item.hidden = points === 0;
        if (points > 0) {
          shown.push({ e: e, points: points });
        }
      });
      shown.sort(function (a, b) {
        if (b.points !== a.points) {
          return b.points - a.points;
        }
        return a.e.entry.name < b.e.entry.name ? -1 : 1;
      });
      shown.forEach(function (match) {
        list.appendChild(match.e.item);
      });
      count.textContent = shown.length === entries.length
        ? plural(entries.length)
        : shown.length + " of " + plural(entries.length);
      empty.hidden = shown.length > 0;
    }

    // Enter opens the best match, as the list shows it.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var first = list.querySelector("li:not([hidden]) a");
      if (first) {
        window.location.href = first.href;
      }
    });
    input.addEventListener("input", update);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        input.value = "";
        update();
      }
    });
    category.addEventListener("change", update);
    // ?q=words links to a search; back from a template page keeps what was typed.
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) {
      input.value = params.get("q");
    }
    window.addEventListener("pageshow", update);
    update();
  }

  function copyByHand(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyByHand(text);
      });
    }
    return copyByHand(text);
  }

  function flash(button, label) {
    button.textContent = label;
    window.setTimeout(function () {
      button.textContent = "Copy";
    }, 2000);
  }

  function setUpCopyButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
      button.addEventListener("click", function () {
        var code = button.parentElement.querySelector("code");
        copyText(code.textContent).then(
          function () { flash(button, "Copied"); },
          function () {
            // Leave the command selected, so that Ctrl+C copies it.
            window.getSelection().selectAllChildren(code);
            flash(button, "Press Ctrl+C");
          }
        );
      });
    });
  }

  setUpSearch();
  setUpCopyButtons();
})();
