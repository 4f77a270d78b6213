"""fastapi_app.py - a small FastAPI (0.92, pydantic 1.10) app: models, a dependency, path and
query parameters, a JSON request body validated by pydantic, and a WebSocket route.

Routes:
    GET  /                   {"message": "Hello, world!"}
    GET  /items/{item_id}    {"item_id": int, "q": str | null}; item_id must be an integer (422)
    POST /items              an Item {"name": str, "price": float, "tags": [str]} back, with
                             "total" = price * quantity from the query (default 1); 422 when
                             the body does not validate
    GET  /whoami             what the dependency found: the X-Token header, else 401
    GET  /counter            requests counted by the app (state kept in the app object)
    WS   /ws/{room}?token=T  WebSocket: refused (403) unless token is "secret"; each JSON
                             message comes back as {"room": room, "got": message}

Run (from the repository root):
    asgid --app-dir examples/python --app fastapi_app:app --bind 127.0.0.1:8000
    curl -s -X POST -H 'content-type: application/json' \\
         -d '{"name": "pen", "price": 1.5}' 'localhost:8000/items?quantity=2'
"""
from typing import List, Optional

from fastapi import (Depends, FastAPI, Header, HTTPException, Query, WebSocket,
                     WebSocketDisconnect)
from pydantic import BaseModel

app = FastAPI(title="asgid example")
app.state.counter = 0


class Item(BaseModel):
    name: str
    price: float
    tags: List[str] = []


class PricedItem(Item):
    quantity: int
    total: float


class User(BaseModel):
    token: str


async def current_user(x_token: Optional[str] = Header(None)) -> User:
    """The dependency: a request without X-Token is refused with 401."""
    if not x_token:
        raise HTTPException(status_code=401, detail="X-Token header missing")
    return User(token=x_token)


@app.get("/")
async def root():
    return {"message": "Hello, world!"}


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: Optional[str] = None):
    return {"item_id": item_id, "q": q}


@app.post("/items", response_model=PricedItem)
async def create_item(item: Item, quantity: int = 1):
    return PricedItem(**item.dict(), quantity=quantity, total=item.price * quantity)


@app.get("/whoami")
async def whoami(user: User = Depends(current_user)):
    return {"token": user.token}


@app.get("/counter")
async def counter():
    app.state.counter += 1
    return {"count": app.state.counter}


@app.websocket("/ws/{room}")
async def ws_room(websocket: WebSocket, room: str, token: Optional[str] = Query(None)):
    if token != "secret":
        await websocket.close(code=1008)  # before accept: the server answers 403
        return
    await websocket.accept()
    try:
        while True:
            data = await websocket.receive_json()
            await websocket.send_json({"room": room, "got": data})
    except WebSocketDisconnect:
        pass
